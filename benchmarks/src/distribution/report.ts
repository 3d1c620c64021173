/** The distribution benchmark's table and its last line of JSON. */
import type { BaselineResult } from './baseline';
import type { LeadRecord, PhaseResult } from './load';
import type { Hop } from './hops';
import { percentile } from './load';
import type { PhaseCost } from './observe';
import type { ProfileSummary } from './profile';
import type { LevelSpec } from './seed';

export interface MeasuredPhase {
  name: string;
  result: PhaseResult;
  cost: PhaseCost;
}

/** One commit setting's measurements (the same services, seeded market and run). */
export interface SettingRun {
  /** `synchronous_commit=on` / `off` (or the server's own setting with DATABASE_URL). */
  setting: string;
  /** Seconds without leads after the warm-up: the system's cost of doing nothing. */
  idle: PhaseCost;
  saturation: MeasuredPhase;
  fixed: MeasuredPhase;
  /** The fixed phase's rate, leads/s. */
  rate: number;
  baseline: BaselineResult;
  failedAttempts: number;
  /** The fixed phase's latency, step by step (hops.ts). */
  hops: Hop[];
}

export interface Report {
  machine: string[];
  market: { niches: number; providersPerLevel: number; levels: readonly LevelSpec[] };
  window: number;
  /** How the fixed phase's rate was chosen (`half the saturation rate`, `BENCH_RATE`). */
  rateRule: string;
  /** The headline (durable) first. */
  runs: SettingRun[];
  profiles: Record<string, ProfileSummary | undefined>;
  /** The phase the profiles were summarised over (BENCH_PROFILE_PHASE). */
  profilePhase: 'saturation' | 'fixed';
  /** Service processes per service and nats-server nodes (1 and 1 unless BENCH_REPLICAS / BENCH_NATS_CLUSTER). */
  topology: { replicas: number; natsNodes: number };
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const pad = (s: string | number, n: number) => String(s).padStart(n);

export interface Latencies {
  recorded: number[];
  relayed: number[];
}

export function latencies(leads: readonly LeadRecord[]): Latencies {
  const sorted = (values: number[]) => values.sort((a, b) => a - b);
  return {
    recorded: sorted(leads.map((l) => l.recordedAt! - l.publishedAt)),
    relayed: sorted(leads.map((l) => l.arrivedAt! - l.publishedAt)),
  };
}

export function throughput(phase: PhaseResult): number {
  return phase.leads.length / ((phase.endedAt - phase.startedAt) / 1_000);
}

function outcomes(leads: readonly LeadRecord[]): string {
  const counts = new Map<string, number>();
  for (const l of leads) counts.set(l.outcome ?? 'none', (counts.get(l.outcome ?? 'none') ?? 0) + 1);
  return [...counts].map(([k, v]) => `${k} ${v}`).join(', ');
}

function costLines(phase: MeasuredPhase): string[] {
  const leads = phase.result.leads.length;
  const { cost } = phase;
  const lines: string[] = [];
  const cpuTotal = Object.values(cost.cpu).reduce((s, v) => s + v, 0);
  lines.push(
    `  CPU per lead (ms; ${fmt(cpuTotal, 1)} CPU-s in ${fmt(cost.seconds, 1)} s = ${fmt(cpuTotal / cost.seconds, 2)} cores busy): ` +
      Object.entries(cost.cpu)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${fmt((v * 1_000) / leads, 2)}`)
        .join(', '),
  );
  if (cost.postgresCpu) {
    lines.push(
      `  PostgreSQL's CPU per lead by backend (ms): ` +
        Object.entries(cost.postgresCpu)
          .filter(([, v]) => v > 0)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${fmt((v * 1_000) / leads, 2)}`)
          .join(', '),
    );
  }
  lines.push(
    `  context switches per lead, voluntary (a wake-up each) / involuntary (preempted): ` +
      Object.entries(cost.switches)
        .sort((a, b) => b[1].voluntary - a[1].voluntary)
        .map(([k, v]) => `${k} ${fmt(v.voluntary / leads, 1)} / ${fmt(v.involuntary / leads, 1)}`)
        .join(', '),
  );
  const d = cost.database;
  lines.push(
    `  PostgreSQL per lead: ${fmt(d.xact_commit / leads, 1)} commits, ${fmt(d.xact_rollback / leads, 2)} rollbacks, ` +
      `${fmt(d.tup_inserted / leads, 1)} rows inserted, ${fmt(d.tup_updated / leads, 1)} updated, ${fmt(d.tup_fetched / leads, 0)} fetched`,
  );
  lines.push(
    `  events per lead: ${fmt(cost.events.total / leads, 2)} (` +
      Object.entries(cost.events.byType)
        .map(([k, v]) => `${k} ${fmt(v / leads, 2)}`)
        .join(', ') +
      ')',
  );
  lines.push(
    `  backends (avg count over ${cost.activity.samples} samples): ` +
      Object.entries(cost.activity.states)
        .map(([k, v]) => `${k} ${fmt(v, 2)}`)
        .join(', '),
  );
  const waits = Object.entries(cost.activity.waiting).slice(0, 6);
  for (const [k, v] of waits) lines.push(`    waiting ${fmt(v, 2)}: ${k}`);
  const holders = Object.entries(cost.activity.holdingXid).slice(0, 6);
  if (holders.length > 0) lines.push(`  transactions holding an xid (they hold back every reader of the global log), avg count: ${holders.reduce((s, [, v]) => s + v, 0).toFixed(2)}`);
  for (const [k, v] of holders) lines.push(`    ${fmt(v, 2)}: ${k}`);
  if (cost.statements) {
    const s = cost.statements;
    lines.push(
      `  pg_stat_statements: ${fmt(s.totalCalls / leads, 1)} statements per lead, ${fmt(s.totalMs / leads, 2)} ms executing + ` +
        `${fmt(s.totalPlanMs / leads, 2)} ms planning per lead; top by execution time (mean exec, mean plan):`,
    );
    lines.push(
      `    by role (statements, exec + plan ms per lead): ` +
        s.byRole
          .filter((r) => r.calls > 0)
          .map((r) => `${r.role.replace(/^fairlead_/, '')} ${fmt(r.calls / leads, 1)} / ${fmt((r.exec_ms + r.plan_ms) / leads, 2)}`)
          .join(', '),
    );
    for (const r of s.rows.slice(0, 12)) {
      lines.push(
        `    ${pad(fmt((100 * r.total_ms) / s.totalMs, 1), 5)}%  ${pad(fmt(r.calls / leads, 2), 6)}/lead  ${pad(fmt(r.mean_ms, 3), 7)} ms ${pad(fmt(r.plan_ms, 3), 6)} ms  ` +
          `${pad(fmt(r.rows_per_call, 1), 6)} rows ${pad(fmt(r.blocks_per_call, 0), 6)} blks  ${r.role.replace(/^fairlead_/, '')}: ${r.query.slice(0, 90)}`,
      );
    }
    lines.push(`  statements by calls per lead (each a round trip, apart from those inside append_batch):`);
    for (const r of s.byCalls.slice(0, 25)) lines.push(`    ${pad(fmt(r.calls / leads, 2), 6)}/lead  plan ${pad(fmt(r.plan_ms, 3), 6)} ms  ${r.role.replace(/^fairlead_/, '')}: ${r.query.slice(0, 100)}`);
  }
  if (cost.traffic) {
    const total = Object.values(cost.traffic).reduce((s, v) => s + v, 0);
    lines.push(`  NATS messages per lead: ${fmt(total / leads, 1)} —`);
    for (const [k, v] of Object.entries(cost.traffic)) lines.push(`    ${pad(fmt(v / leads, 2), 6)}  ${k}`);
  }
  return lines;
}

function runLines(r: Report, run: SettingRun): string[] {
  const sat = latencies(run.saturation.result.leads);
  const fixed = latencies(run.fixed.result.leads);
  const leadsPerSecond = throughput(run.saturation.result);
  const out: string[] = [];
  out.push(
    '',
    `── ${run.setting} ──`,
    `${'phase'.padEnd(44)} ${pad('leads', 6)} ${pad('seconds', 8)} ${pad('leads/s', 8)} ${pad('p50', 6)} ${pad('p95', 6)} ${pad('p99', 6)} ${pad('max', 6)}  (ms, publish → outcome recorded)`,
  );
  const row = (name: string, phase: PhaseResult, l: Latencies) =>
    `${name.padEnd(44)} ${pad(phase.leads.length, 6)} ${pad(fmt((phase.endedAt - phase.startedAt) / 1_000, 1), 8)} ${pad(fmt(throughput(phase), 1), 8)} ` +
    `${pad(fmt(percentile(l.recorded, 50)), 6)} ${pad(fmt(percentile(l.recorded, 95)), 6)} ${pad(fmt(percentile(l.recorded, 99)), 6)} ${pad(fmt(l.recorded.at(-1)!), 6)}`;
  out.push(row(`saturation (≤ ${r.window} leads in flight)`, run.saturation.result, sat));
  out.push(row(`fixed rate ${run.rate}/s`, run.fixed.result, fixed));
  out.push(
    `${`baseline: pg only, 1 tx/lead, ${r.market.niches} in parallel`.padEnd(44)} ${pad(run.baseline.leads, 6)} ${pad(fmt(run.baseline.seconds, 1), 8)} ${pad(fmt(run.baseline.leadsPerSecond, 1), 8)}`,
  );
  const drainLine = (name: string, phase: PhaseResult) => {
    const d = phase.drain;
    if (!d) return [];
    const parts = [`outcomes alone ${fmt(phase.leads.length / ((phase.outcomesEndedAt - phase.startedAt) / 1_000), 1)} leads/s (last outcome ${fmt((phase.outcomesEndedAt - phase.startedAt) / 1_000, 1)} s)`];
    if (d.lastEmailAt !== undefined) parts.push(`last email ${fmt((d.lastEmailAt - phase.startedAt) / 1_000, 1)} s`);
    if (d.readModelsAt !== undefined) parts.push(`operator API read models ${fmt((d.readModelsAt - phase.startedAt) / 1_000, 1)} s`);
    if (d.emailLatencies?.length) parts.push(`publish → last email of the lead p50 ${fmt(percentile(d.emailLatencies, 50))} / p99 ${fmt(percentile(d.emailLatencies, 99))} ms`);
    return [`${name}: ${parts.join('; ')}`];
  };
  out.push(
    '',
    'the whole lead path (a phase ends when the last outcome, email and read-model row are done):',
    ...drainLine('  saturation', run.saturation.result),
    ...drainLine('  fixed rate', run.fixed.result),
  );
  out.push(
    '',
    `fixed rate, publish → relayed outcome seen by a subscriber: p50 ${fmt(percentile(fixed.relayed, 50))} ms, p95 ${fmt(percentile(fixed.relayed, 95))} ms, p99 ${fmt(percentile(fixed.relayed, 99))} ms`,
    'fixed rate, step by step (ms, p50 / p99):',
    ...run.hops.map((h) => `  ${h.hop.padEnd(58)} ${pad(fmt(h.p50), 6)} / ${pad(fmt(h.p99), 6)}`),
    `outcomes: saturation ${outcomes(run.saturation.result.leads)}; fixed rate ${outcomes(run.fixed.result.leads)}; failed attempts ${run.failedAttempts}`,
    `system / baseline = ${fmt(leadsPerSecond / run.baseline.leadsPerSecond, 3)}`,
  );
  out.push('', ...idleLines(run.idle, run.fixed));
  out.push('', `saturation phase costs (${run.saturation.result.leads.length} leads):`, ...costLines(run.saturation));
  out.push('', `fixed-rate phase costs (${run.fixed.result.leads.length} leads):`, ...costLines(run.fixed));
  return out;
}

/**
 * What the system costs with no leads (polls, heartbeats, timers), per second, and the share
 * of the fixed-rate phase's CPU per lead that this floor alone accounts for.
 */
function idleLines(idle: PhaseCost, fixed: MeasuredPhase): string[] {
  const perSecond = (v: number) => v / idle.seconds;
  const cores = Object.entries(idle.cpu).filter(([k]) => k !== 'benchmark');
  const idleCores = cores.reduce((s, [, v]) => s + perSecond(v), 0);
  const fixedLeadsPerSecond = fixed.result.leads.length / fixed.cost.seconds;
  const lines = [
    `idle (${fmt(idle.seconds, 1)} s without leads, after the warm-up): ${fmt(idleCores, 3)} cores busy (benchmark excluded) — CPU ms per second: ` +
      cores
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${fmt(perSecond(v) * 1_000, 1)}`)
        .join(', '),
    `  at the fixed rate's ${fmt(fixedLeadsPerSecond, 1)} leads/s this floor alone is ${fmt((idleCores * 1_000) / fixedLeadsPerSecond, 2)} CPU-ms per lead; ` +
      `PostgreSQL ${fmt(perSecond(idle.database.xact_commit), 1)} commits/s`,
  ];
  if (idle.statements) {
    lines.push(
      `  PostgreSQL statements per second by role: ` +
        idle.statements.byRole
          .filter((r) => r.calls > 0)
          .map((r) => `${r.role.replace(/^fairlead_/, '')} ${fmt(perSecond(r.calls), 1)}`)
          .join(', '),
    );
    for (const r of idle.statements.byCalls.slice(0, 8)) lines.push(`    ${pad(fmt(perSecond(r.calls), 1), 6)}/s  ${r.role.replace(/^fairlead_/, '')}: ${r.query.slice(0, 100)}`);
  }
  return lines;
}

/** The figures of one setting for the JSON line. */
function figures(run: SettingRun) {
  const fixed = latencies(run.fixed.result.leads);
  const leadsPerSecond = throughput(run.saturation.result);
  return {
    leads_per_s: Math.round(leadsPerSecond * 10) / 10,
    p50_ms: Math.round(percentile(fixed.recorded, 50)),
    p95_ms: Math.round(percentile(fixed.recorded, 95)),
    p99_ms: Math.round(percentile(fixed.recorded, 99)),
    events_per_lead: Math.round((run.saturation.cost.events.total / run.saturation.result.leads.length) * 100) / 100,
    baseline_leads_per_s: Math.round(run.baseline.leadsPerSecond * 10) / 10,
    ratio: Math.round((leadsPerSecond / run.baseline.leadsPerSecond) * 1000) / 1000,
    outcomes_only_leads_per_s: Math.round((run.saturation.result.leads.length / ((run.saturation.result.outcomesEndedAt - run.saturation.result.startedAt) / 1_000)) * 10) / 10,
    fixed_rate_per_s: run.rate,
    ...(run.fixed.result.drain?.emailLatencies?.length ? { email_p99_ms: Math.round(percentile(run.fixed.result.drain.emailLatencies, 99)) } : {}),
    cpu_ms_per_lead: cpuPerLead(run.saturation),
  };
}

/** CPU milliseconds per lead of every process in a phase, largest first, with the total of all but the benchmark. */
export function cpuPerLead(phase: MeasuredPhase): Record<string, number> {
  const leads = phase.result.leads.length;
  const perLead = Object.entries(phase.cost.cpu)
    .map(([k, v]) => [k, Math.round(((v * 1_000) / leads) * 100) / 100] as const)
    .sort((a, b) => b[1] - a[1]);
  const total = perLead.filter(([k]) => k !== 'benchmark').reduce((s, [, v]) => s + v, 0);
  return { ...Object.fromEntries(perLead), system_total: Math.round(total * 100) / 100 };
}

/** Issue 12's goals, with durable commits and the whole set: saturation ≥ 0.25 × the baseline; p99 ≤ 250 ms at half the saturation rate. */
export const GOALS = { ratio: 0.25, p99Ms: 250 } as const;

/**
 * The tables of every setting measured, a comparison, and one line of JSON whose top-level
 * figures are the first (durable) setting's; the others follow under their setting's name.
 */
export function printReport(r: Report): void {
  const assignmentsPerLead = r.market.levels.reduce((s, l) => s + l.max_recipients, 0);
  const out: string[] = [];
  out.push('', `bench:distribution — ${new Date().toISOString()}`);
  for (const line of r.machine) out.push(`  ${line}`);
  out.push(
    `  market: ${r.market.niches} niches × ${r.market.levels.length} levels (${r.market.levels.map((l) => `${l.name} ${l.max_recipients}×${l.price_per_lead_cents}¢`).join(', ')}) × ` +
      `${r.market.providersPerLevel} providers per level; ${assignmentsPerLead} assignments per lead`,
    `  topology: ${r.topology.replicas} process${r.topology.replicas === 1 ? '' : 'es'} per service, ${r.topology.natsNodes} nats-server node${r.topology.natsNodes === 1 ? '' : 's'}` +
      (r.topology.natsNodes > 1 ? ` (streams with ${r.topology.natsNodes} replicas)` : ''),
  );
  for (const run of r.runs) out.push(...runLines(r, run));
  for (const [service, p] of Object.entries(r.profiles)) {
    if (!p) continue;
    out.push('', `profile of ${service} during the first ${r.profilePhase === 'fixed' ? 'fixed-rate' : 'saturation'} phase: ${fmt(p.totalMs / 1_000, 1)} s sampled, idle ${fmt(100 * p.idleShare, 0)}%; self time of the busy part by origin:`);
    out.push(`    ${p.origins.map((o) => `${o.origin} ${fmt(100 * o.share, 1)}%`).join(', ')}`);
    for (const f of p.functions) out.push(`    ${pad(fmt(100 * f.share, 1), 5)}%  ${f.name}`);
  }
  out.push(
    '',
    `summary (fixed rate: ${r.rateRule}; goals: ratio ≥ ${GOALS.ratio}, p99 ≤ ${GOALS.p99Ms} ms at half the saturation rate)`,
    `${'setting'.padEnd(34)} ${pad('leads/s', 8)} ${pad('baseline', 9)} ${pad('ratio', 6)} ${pad('rate', 6)} ${pad('p99', 9)}  CPU ms per lead at saturation`,
  );
  for (const [i, run] of r.runs.entries()) {
    const f = figures(run);
    const cpu = Object.entries(f.cpu_ms_per_lead)
      .map(([k, v]) => `${k} ${fmt(v, 2)}`)
      .join(', ');
    out.push(
      `${`${run.setting}${i === 0 ? ' (headline)' : ''}`.padEnd(34)} ${pad(fmt(f.leads_per_s, 1), 8)} ${pad(fmt(f.baseline_leads_per_s, 1), 9)} ` +
        `${pad(fmt(f.ratio, 3), 6)} ${pad(`${run.rate}/s`, 6)} ${pad(`${f.p99_ms} ms`, 9)}  ${cpu}`,
    );
  }
  const headlineFigures = figures(r.runs[0]!);
  out.push(
    `goals (headline): ratio ${fmt(headlineFigures.ratio, 3)} ${headlineFigures.ratio >= GOALS.ratio ? '≥' : '<'} ${GOALS.ratio} ${headlineFigures.ratio >= GOALS.ratio ? '✓' : '✗'}; ` +
      `p99 ${headlineFigures.p99_ms} ms ${headlineFigures.p99_ms <= GOALS.p99Ms ? '≤' : '>'} ${GOALS.p99Ms} ms ${headlineFigures.p99_ms <= GOALS.p99Ms ? '✓' : '✗'} (at ${r.runs[0]!.rate}/s)`,
  );
  for (const line of out) console.log(line);
  const [headline, ...others] = r.runs;
  console.log(
    JSON.stringify({
      bench: 'distribution',
      setting: headline!.setting,
      replicas: r.topology.replicas,
      nats_nodes: r.topology.natsNodes,
      ...figures(headline!),
      ...Object.fromEntries(others.map((run) => [run.setting, figures(run)])),
    }),
  );
}
