/** The distribution benchmark's table and its last line of JSON. */
import type { BaselineResult } from './baseline';
import type { LeadRecord, PhaseResult } from './load';
import { percentile } from './load';
import type { PhaseCost } from './observe';
import type { ProfileSummary } from './profile';
import type { LevelSpec } from './seed';

export interface MeasuredPhase {
  name: string;
  result: PhaseResult;
  cost: PhaseCost;
}

export interface Report {
  machine: string[];
  market: { niches: number; providersPerLevel: number; levels: readonly LevelSpec[] };
  window: number;
  rate: number;
  saturation: MeasuredPhase;
  fixed: MeasuredPhase;
  baseline: BaselineResult;
  profiles: Record<string, ProfileSummary | undefined>;
  failedAttempts: number;
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
  if (cost.statements) {
    const s = cost.statements;
    lines.push(
      `  pg_stat_statements: ${fmt(s.totalCalls / leads, 1)} statements per lead, ${fmt(s.totalMs / leads, 2)} ms executing + ` +
        `${fmt(s.totalPlanMs / leads, 2)} ms planning per lead; top by execution time (mean exec, mean plan):`,
    );
    for (const r of s.rows.slice(0, 12)) {
      lines.push(
        `    ${pad(fmt((100 * r.total_ms) / s.totalMs, 1), 5)}%  ${pad(fmt(r.calls / leads, 2), 6)}/lead  ${pad(fmt(r.mean_ms, 3), 7)} ms ${pad(fmt(r.plan_ms, 3), 6)} ms  ` +
          `${pad(fmt(r.rows_per_call, 1), 6)} rows ${pad(fmt(r.blocks_per_call, 0), 6)} blks  ${r.query.slice(0, 100)}`,
      );
    }
    lines.push(`  statements by calls per lead (each a round trip, apart from those inside append_batch):`);
    for (const r of s.byCalls.slice(0, 25)) lines.push(`    ${pad(fmt(r.calls / leads, 2), 6)}/lead  plan ${pad(fmt(r.plan_ms, 3), 6)} ms  ${r.query.slice(0, 110)}`);
  }
  if (cost.traffic) {
    const total = Object.values(cost.traffic).reduce((s, v) => s + v, 0);
    lines.push(`  NATS messages per lead: ${fmt(total / leads, 1)} —`);
    for (const [k, v] of Object.entries(cost.traffic)) lines.push(`    ${pad(fmt(v / leads, 2), 6)}  ${k}`);
  }
  return lines;
}

export function printReport(r: Report): void {
  const sat = latencies(r.saturation.result.leads);
  const fixed = latencies(r.fixed.result.leads);
  const leadsPerSecond = throughput(r.saturation.result);
  const assignmentsPerLead = r.market.levels.reduce((s, l) => s + l.max_recipients, 0);
  const eventsPerLead = r.saturation.cost.events.total / r.saturation.result.leads.length;
  const out: string[] = [];
  out.push('', `bench:distribution — ${new Date().toISOString()}`);
  for (const line of r.machine) out.push(`  ${line}`);
  out.push(
    `  market: ${r.market.niches} niches × ${r.market.levels.length} levels (${r.market.levels.map((l) => `${l.name} ${l.max_recipients}×${l.price_per_lead_cents}¢`).join(', ')}) × ` +
      `${r.market.providersPerLevel} providers per level; ${assignmentsPerLead} assignments per lead`,
    '',
    `${'phase'.padEnd(44)} ${pad('leads', 6)} ${pad('seconds', 8)} ${pad('leads/s', 8)} ${pad('p50', 6)} ${pad('p95', 6)} ${pad('p99', 6)} ${pad('max', 6)}  (ms, publish → outcome recorded)`,
  );
  const row = (name: string, phase: PhaseResult, l: Latencies) =>
    `${name.padEnd(44)} ${pad(phase.leads.length, 6)} ${pad(fmt((phase.endedAt - phase.startedAt) / 1_000, 1), 8)} ${pad(fmt(throughput(phase), 1), 8)} ` +
    `${pad(fmt(percentile(l.recorded, 50)), 6)} ${pad(fmt(percentile(l.recorded, 95)), 6)} ${pad(fmt(percentile(l.recorded, 99)), 6)} ${pad(fmt(l.recorded.at(-1)!), 6)}`;
  out.push(row(`saturation (≤ ${r.window} leads in flight)`, r.saturation.result, sat));
  out.push(row(`fixed rate ${r.rate}/s`, r.fixed.result, fixed));
  out.push(
    `${`baseline: pg only, 1 tx/lead, ${r.market.niches} in parallel`.padEnd(44)} ${pad(r.baseline.leads, 6)} ${pad(fmt(r.baseline.seconds, 1), 8)} ${pad(fmt(r.baseline.leadsPerSecond, 1), 8)}`,
  );
  out.push(
    '',
    `fixed rate, publish → relayed outcome seen by a subscriber: p50 ${fmt(percentile(fixed.relayed, 50))} ms, p95 ${fmt(percentile(fixed.relayed, 95))} ms, p99 ${fmt(percentile(fixed.relayed, 99))} ms`,
    `outcomes: saturation ${outcomes(r.saturation.result.leads)}; fixed rate ${outcomes(r.fixed.result.leads)}; failed attempts ${r.failedAttempts}`,
    `system / baseline = ${fmt(leadsPerSecond / r.baseline.leadsPerSecond, 3)}`,
  );
  out.push('', `saturation phase costs (${r.saturation.result.leads.length} leads):`, ...costLines(r.saturation));
  out.push('', `fixed-rate phase costs (${r.fixed.result.leads.length} leads):`, ...costLines(r.fixed).slice(0, 4));
  for (const [service, p] of Object.entries(r.profiles)) {
    if (!p) continue;
    out.push('', `profile of ${service} during saturation: ${fmt(p.totalMs / 1_000, 1)} s sampled, idle ${fmt(100 * p.idleShare, 0)}%; self time of the busy part by origin:`);
    out.push(`    ${p.origins.map((o) => `${o.origin} ${fmt(100 * o.share, 1)}%`).join(', ')}`);
    for (const f of p.functions) out.push(`    ${pad(fmt(100 * f.share, 1), 5)}%  ${f.name}`);
  }
  out.push('', `Goal: ≥ 300 leads/s sustained, p99 ≤ 250 ms at 100 leads/s.`);
  for (const line of out) console.log(line);
  console.log(
    JSON.stringify({
      bench: 'distribution',
      leads_per_s: Math.round(leadsPerSecond * 10) / 10,
      p50_ms: Math.round(percentile(fixed.recorded, 50)),
      p95_ms: Math.round(percentile(fixed.recorded, 95)),
      p99_ms: Math.round(percentile(fixed.recorded, 99)),
      events_per_lead: Math.round(eventsPerLead * 100) / 100,
      baseline_leads_per_s: Math.round(r.baseline.leadsPerSecond * 10) / 10,
    }),
  );
}
