/**
 * `npm run bench:operator-projections`: the CPU the operator API's read models cost per
 * lead — in the projector's process and in PostgreSQL on its behalf — at two page shapes:
 *
 *   - many leads per page: OP_BENCH_LEADS leads' events appended while the projector group
 *     is stopped, then read in pages of 500 events (the saturation shape);
 *   - one lead per page: OP_BENCH_SLOW_LEADS leads appended in four chunks each, the
 *     projector caught up after each chunk (the low-rate shape: a page holds a few events
 *     of one lead).
 *
 *   - a fixed rate: OP_BENCH_RATE leads a second (default 20; OP_BENCH_RATES: several, e.g.
 *     `12,36`) for OP_BENCH_RATE_SECONDS, each lead's chunks 60 ms apart, the group following
 *     the store's notifications on its own (OP_BENCH_MIN_READ_MS: its least read interval, the API's 250 ms by default; a
 *     list, e.g. `50,250`, runs each rate once per interval, alternated, OP_BENCH_ROUNDS times,
 *     so the variants meet the same neighbours on a shared machine), after OP_BENCH_WARMUP_SECONDS
 *     (default 5) at the first rate, not measured.
 *
 * OP_BENCH_LEADS=0 / OP_BENCH_SLOW_LEADS=0 leave out the first two phases.
 *
 * Each lead is the distribution benchmark's: LeadApproved, DistributionRequested,
 * StartLevelClaimed, DistributionStarted, 3× ProvidersSelected (50 candidates each),
 * 4× WalletCharged, 4× LeadAssigned, DistributionCompleted (16 events). The projector
 * group (every operator read model, as the service runs them) runs in a child process, so
 * its CPU (process.cpuUsage) is its own; PostgreSQL's is the CPU of its backends
 * (/proc/<pid>/stat) and the statements' time (pg_stat_statements, appends left out).
 * Prints a table; the last line is JSON {"bench":"operator-projections",…}.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { z } from 'zod';
import { SYSTEM_ACTOR } from '@fairlead/contracts';
import { createPostgresEventStore, type NewEvent, type PostgresEventStore } from '@fairlead/event-store';
import { freePort, startEmbeddedPostgres } from '@fairlead/local-servers';
import { OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS, PROJECTIONS, SCHEMA } from '@fairlead/operator-api';
import { monotonicMicros, summariseProfiles } from './distribution/profile';
import { compareCheckpoints, startProjectorGroup, type RunningProjector } from '@fairlead/projections';
import { backendCpuDelta, backendCpuMs } from '@fairlead/testing/perf';

const env = z
  .object({
    OP_BENCH_LEADS: z.coerce.number().int().nonnegative().default(1_000),
    OP_BENCH_SLOW_LEADS: z.coerce.number().int().nonnegative().default(200),
    /** The fixed-rate phase: leads a second, and for how many seconds. */
    OP_BENCH_RATE: z.coerce.number().positive().default(20),
    /** Several fixed rates, comma-separated (instead of OP_BENCH_RATE). */
    OP_BENCH_RATES: z
      .string()
      .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/)
      .transform((v) => v.split(',').map(Number))
      .optional(),
    /** Times each fixed-rate phase is run (per interval). */
    OP_BENCH_ROUNDS: z.coerce.number().int().positive().default(1),
    /** Seconds at the first rate and interval, not measured, before the fixed-rate phases. */
    OP_BENCH_WARMUP_SECONDS: z.coerce.number().nonnegative().default(5),
    OP_BENCH_RATE_SECONDS: z.coerce.number().positive().default(10),
    OP_BENCH_CANDIDATES: z.coerce.number().int().positive().default(50),
    /** The projector group's least read interval (ms) in the fixed-rate phases (default the service's); comma-separated: each in turn. */
    OP_BENCH_MIN_READ_MS: z
      .string()
      .regex(/^\d+(,\d+)*$/)
      .transform((v) => v.split(',').map(Number))
      .optional(),
    /** A directory: profile the projector process (node --cpu-prof) and print where each phase's time went. */
    OP_BENCH_PROF: z.string().min(1).optional(),
  })
  .parse(process.env);

const APP_NAME = 'opbench-projector';
const NICHES = 5;
const LEVELS = [
  { name: 'Gold', max: 2, price: 4_900 },
  { name: 'Silver', max: 1, price: 2_900 },
  { name: 'Bronze', max: 1, price: 1_500 },
];

type Msg = { cmd: 'start'; minReadIntervalMs?: number } | { cmd: 'catchup' } | { cmd: 'cpu' } | { cmd: 'stop' } | { cmd: 'exit' } | { cmd: 'until'; transactionId: string; globalPosition: string };
interface Reply {
  ok: boolean;
  error?: string;
  cpuMs: number;
}

// ---------------------------------------------------------------- child: the projector group
async function child(url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 4, idleTimeoutMillis: 0, application_name: APP_NAME });
  pool.on('error', () => undefined);
  const store = createPostgresEventStore({ pool });
  let group: RunningProjector[] = [];
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  process.on('message', (m: Msg) => {
    void (async () => {
      try {
        if (m.cmd === 'start') group = await startProjectorGroup({ store, pool, schema: SCHEMA, projections: PROJECTIONS, ...(m.minReadIntervalMs !== undefined ? { minReadIntervalMs: m.minReadIntervalMs } : {}) });
        if (m.cmd === 'start' || m.cmd === 'catchup') await Promise.all(group.map((p) => p.waitUntilCaughtUp(600_000)));
        if (m.cmd === 'until') {
          // As a reader of the read models would see it: the group follows the store's
          // notifications at its own pace (no readNow); polled, so the wait adds no query.
          const target = { transactionId: BigInt(m.transactionId), globalPosition: BigInt(m.globalPosition) };
          const behind = () => group.some((p) => compareCheckpoints(p.position(), target) < 0);
          const deadline = Date.now() + 60_000;
          while (behind()) {
            if (Date.now() > deadline) throw new Error('the projector group did not catch up within 60 s');
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
        if (m.cmd === 'stop') await group[0]?.stop();
        if (m.cmd === 'exit') {
          await store.close();
          process.send!({ ok: true, cpuMs: cpu() } satisfies Reply);
          process.exit(0);
        }
        process.send!({ ok: true, cpuMs: cpu() } satisfies Reply);
      } catch (error) {
        process.send!({ ok: false, error: String(error), cpuMs: cpu() } satisfies Reply);
      }
    })();
  });
  process.send!({ ok: true, cpuMs: cpu() } satisfies Reply);
}

// ---------------------------------------------------------------- the leads
interface Chunk {
  stream: string;
  events: NewEvent[];
}

const ev = (type: string, data: unknown): NewEvent => ({ id: randomUUID(), type, data, metadata: {} });
const provider = (n: number, l: number, p: number) => `bench-p-n${n}-l${l + 1}-${String(p + 1).padStart(3, '0')}`;
const lastServed = new Map<string, string>();
const balances = new Map<string, number>();

/** One lead's events in the order the services record them, as the appends (chunks) they make; `pages` groups the chunks a low-rate page holds. */
function leadChunks(i: number, startOrder: number): Chunk[][] {
  const niche = i % NICHES;
  const nicheId = `bench-n${niche}`;
  const leadId = `lead-${randomUUID()}`;
  const s = `lead-${leadId}`;
  const when = new Date(Date.UTC(2026, 0, 1) + i * 1_000).toISOString();
  const requestId = randomUUID();
  const traversal = LEVELS.map((l, k) => ({ level_id: `${nicheId}-l${k + 1}`, name: l.name, order_position: k + 1, max_recipients: l.max, price_per_lead_cents: l.price }));
  const pages: Chunk[][] = [
    [
      {
        stream: s,
        events: [
          ev('LeadApproved', {
            received_via: 'nats',
            lead: { schema_version: 1, lead_id: leadId, niche_id: nicheId, approved_at: when, consumer: { name: 'Ada Lovelace', email: 'ada@example.com' }, location: { postal_code: '94110', state: 'CA' }, details: {} },
          }),
          ev('DistributionRequested', { lead_id: leadId, niche_id: nicheId, request_id: requestId, requested_by: SYSTEM_ACTOR, requested_at: when }),
        ],
      },
    ],
  ];
  const second: Chunk[] = [
    { stream: `niche-${nicheId}`, events: [ev('StartLevelClaimed', { niche_id: nicheId, lead_id: leadId, start_order_position: (startOrder % LEVELS.length) + 1, next_start_order_position: ((startOrder + 1) % LEVELS.length) + 1, traversal })] },
    { stream: s, events: [ev('DistributionStarted', { lead_id: leadId, niche_id: nicheId, request_id: requestId, attempt: 1, start_order_position: 1, traversal, started_at: when })] },
  ];
  pages.push(second);
  const assignments: { assignment_id: string; provider_id: string; subscription_id: string; level_id: string; price_cents: number }[] = [];
  let current = second;
  LEVELS.forEach((l, k) => {
    const level = traversal[k]!;
    const candidates = Array.from({ length: env.OP_BENCH_CANDIDATES }, (_, p) => provider(niche, k, p))
      .map((p) => ({ provider_id: p, subscription_id: `sub-${p}`, last_received_at: lastServed.get(p) ?? null }))
      .sort((a, b) => (a.last_received_at ?? '').localeCompare(b.last_received_at ?? '') || a.provider_id.localeCompare(b.provider_id));
    const picks = candidates.slice(0, l.max).map((c) => ({ provider_id: c.provider_id, subscription_id: c.subscription_id, price_cents: l.price }));
    current.push({ stream: s, events: [ev('ProvidersSelected', { lead_id: leadId, level_id: level.level_id, order_position: k + 1, round: 0, candidates, excluded: [], picks })] });
    const charges: Chunk[] = [];
    const assigned: NewEvent[] = [];
    for (const pick of picks) {
      const balance = (balances.get(pick.provider_id) ?? 10_000_000) - l.price;
      balances.set(pick.provider_id, balance);
      lastServed.set(pick.provider_id, when);
      charges.push({ stream: `wallet-${pick.provider_id}`, events: [ev('WalletCharged', { provider_id: pick.provider_id, lead_id: leadId, subscription_id: pick.subscription_id, level_id: level.level_id, amount_cents: l.price, balance_after_cents: balance })] });
      const assignmentId = randomUUID();
      assignments.push({ assignment_id: assignmentId, provider_id: pick.provider_id, subscription_id: pick.subscription_id, level_id: level.level_id, price_cents: l.price });
      assigned.push(
        ev('LeadAssigned', {
          assignment_id: assignmentId,
          lead_id: leadId,
          niche_id: nicheId,
          provider_id: pick.provider_id,
          subscription_id: pick.subscription_id,
          level_id: level.level_id,
          level_name: l.name,
          order_position: k + 1,
          price_cents: l.price,
          balance_after_cents: balance,
          assigned_at: when,
        }),
      );
    }
    current.push(...charges, { stream: s, events: assigned });
    if (k < LEVELS.length - 1) pages.push((current = []));
  });
  current.push({
    stream: s,
    events: [
      ev('DistributionCompleted', {
        lead_id: leadId,
        niche_id: nicheId,
        request_id: requestId,
        outcome: 'success',
        start_order_position: 1,
        traversal: traversal.map((l) => l.level_id),
        assignments,
        skipped: [],
        duration_ms: 12,
        attempt: 1,
        completed_at: when,
      }),
    ],
  });
  return pages;
}

// ---------------------------------------------------------------- measuring PostgreSQL
interface PgSample {
  /** CPU ms so far of the projector's backends, by pid. */
  backendCpuMs: Map<number, number>;
  statements: { query: string; calls: number; exec: number; plan: number; rows: number }[];
}

async function pgSample(admin: pg.Pool): Promise<PgSample> {
  const { rows } = await admin.query<{ query: string; calls: string; exec: number; plan: number; rows: string }>(
    `select query, calls, total_exec_time as exec, total_plan_time as plan, rows from pg_stat_statements
      where dbid = (select oid from pg_database where datname = current_database()) and toplevel
        and query not like '%append_batch%' and query not like '%e.global_position desc limit%' and query not like '%pg_stat%' and query not like '%pg_notify%'`,
  );
  return {
    backendCpuMs: await backendCpuMs(admin, { applicationName: APP_NAME }),
    statements: rows.map((r) => ({ query: r.query.replace(/\s+/g, ' '), calls: Number(r.calls), exec: r.exec, plan: r.plan, rows: Number(r.rows) })),
  };
}

// ---------------------------------------------------------------- parent
class Child {
  private pending: ((r: Reply) => void) | undefined;
  constructor(readonly proc: ChildProcess) {
    proc.on('message', (r: Reply) => {
      const p = this.pending;
      this.pending = undefined;
      p?.(r);
    });
  }
  ready(): Promise<Reply> {
    return new Promise((resolve) => (this.pending = resolve));
  }
  async send(m: Msg): Promise<Reply> {
    const reply = new Promise<Reply>((resolve) => (this.pending = resolve));
    this.proc.send(m);
    const r = await reply;
    if (!r.ok) throw new Error(`projector child: ${r.error}`);
    return r;
  }
}

interface PhaseResult {
  phase: string;
  leads: number;
  processCpuMsPerLead: number;
  pgBackendCpuMsPerLead: number;
  pgExecMsPerLead: number;
  pgPlanMsPerLead: number;
  statementsPerLead: number;
  /** Reads of the log (pages, empty or not) per lead. */
  readsPerLead: number;
  top: { query: string; callsPerLead: number; meanExec: number; meanPlan: number; meanRows: number }[];
  window: { fromUs: number; toUs: number };
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const root = await mkdtemp(join(tmpdir(), 'fairlead-opbench-'));
  await chmod(root, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir: join(root, 'postgres'),
    port: await freePort(),
    persistent: false,
    extraFlags: ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all', '-c', 'pg_stat_statements.track_planning=on'],
  });
  const admin = new pg.Pool({ connectionString: server.url, max: 2 });
  // The server's stop ends its idle connections: not an error of the benchmark.
  admin.on('error', () => undefined);
  let proc: ChildProcess | undefined;
  try {
    await admin.query('create extension if not exists pg_stat_statements');
    const pool = new pg.Pool({ connectionString: server.url, max: 4 });
    pool.on('error', () => undefined);
    const store: PostgresEventStore = createPostgresEventStore({ pool });
    await store.migrate();
    const append = async (chunks: readonly Chunk[]) => {
      for (const c of chunks) await store.append(c.stream, c.events, 'any');
    };

    // The market: niches, levels, funded wallets.
    for (let n = 0; n < NICHES; n++) {
      const nicheId = `bench-n${n}`;
      await append([{ stream: `niche-${nicheId}`, events: [ev('NicheCreated', { niche_id: nicheId, name: `Niche ${n}`, auto_distribute: true, actor: SYSTEM_ACTOR })] }]);
      for (let k = 0; k < LEVELS.length; k++) {
        const l = LEVELS[k]!;
        await append([{ stream: `niche-${nicheId}`, events: [ev('CompetitionLevelAdded', { niche_id: nicheId, level_id: `${nicheId}-l${k + 1}`, name: l.name, order_position: k + 1, max_recipients: l.max, price_per_lead_cents: l.price, active: true, actor: SYSTEM_ACTOR })] }]);
        const tops = Array.from({ length: env.OP_BENCH_CANDIDATES }, (_, p) => provider(n, k, p)).map((p) => ({
          stream: `wallet-${p}`,
          events: [ev('WalletToppedUp', { provider_id: p, amount_cents: 10_000_000, balance_after_cents: 10_000_000, reference: 'bench', actor: SYSTEM_ACTOR })],
        }));
        await append(tops);
      }
    }

    proc = fork(fileURLToPath(import.meta.url), ['--child', server.url], { execArgv: ['--import', 'tsx', ...(env.OP_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.OP_BENCH_PROF}`] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const c = new Child(proc);
    await c.ready();
    await c.send({ cmd: 'start' });
    await c.send({ cmd: 'stop' });
    let order = 1;

    const measure = async (phase: string, leads: number, run: () => Promise<void>): Promise<PhaseResult> => {
      await admin.query('select pg_stat_statements_reset()');
      const cpu0 = (await c.send({ cmd: 'cpu' })).cpuMs;
      const pg0 = await pgSample(admin);
      const fromUs = monotonicMicros();
      await run();
      const toUs = monotonicMicros();
      const cpu1 = (await c.send({ cmd: 'cpu' })).cpuMs;
      const pg1 = await pgSample(admin);
      const statements = pg1.statements.filter((s) => !/pg_stat_statements_reset/.test(s.query));
      const sum = (f: (s: PgSample['statements'][number]) => number) => statements.reduce((a, s) => a + f(s), 0);
      void pg0;
      return {
        phase,
        leads,
        processCpuMsPerLead: (cpu1 - cpu0) / leads,
        pgBackendCpuMsPerLead: (backendCpuDelta(pg0.backendCpuMs, pg1.backendCpuMs) ?? 0) / leads,
        pgExecMsPerLead: sum((s) => s.exec) / leads,
        pgPlanMsPerLead: sum((s) => s.plan) / leads,
        statementsPerLead: sum((s) => s.calls) / leads,
        readsPerLead: statements.filter((s) => s.query.includes('read_page(')).reduce((a, s) => a + s.calls, 0) / leads,
        window: { fromUs, toUs },
        top: statements
          .sort((a, b) => b.exec + b.plan - (a.exec + a.plan))
          .slice(0, 12)
          .map((s) => ({ query: s.query.slice(0, 110), callsPerLead: s.calls / leads, meanExec: s.exec / s.calls, meanPlan: s.plan / s.calls, meanRows: s.rows / s.calls })),
      };
    };

    // Many leads per page: appended while the group is stopped, interleaved as leads in flight are.
    const results: PhaseResult[] = [];
    let leadNo = 0;
    if (env.OP_BENCH_LEADS > 0) {
      log(`appending ${env.OP_BENCH_LEADS} leads (many per page)…`);
      const inFlight = 32;
      for (let i = 0; i < env.OP_BENCH_LEADS; i += inFlight) {
        const batch = Array.from({ length: Math.min(inFlight, env.OP_BENCH_LEADS - i) }, (_, k) => leadChunks(leadNo + i + k, order++));
        const depth = Math.max(...batch.map((b) => b.length));
        for (let p = 0; p < depth; p++) for (const b of batch) if (b[p]) await append(b[p]!);
      }
      leadNo += env.OP_BENCH_LEADS;
    }
    // The log's statistics, as a running store has them; the read models' tables are left as
    // a fresh install has them (never analyzed) until autovacuum analyzes them.
    await pool.query('vacuum analyze eventstore.events');
    if (env.OP_BENCH_LEADS > 0) {
      results.push(
        await measure('many leads per page', env.OP_BENCH_LEADS, async () => {
          await c.send({ cmd: 'start' });
        }),
      );
    } else await c.send({ cmd: 'start' });

    // One lead per page: each chunk of a lead read on its own.
    if (env.OP_BENCH_SLOW_LEADS > 0) {
      log(`projecting ${env.OP_BENCH_SLOW_LEADS} leads one page at a time…`);
      const slow = Array.from({ length: env.OP_BENCH_SLOW_LEADS }, (_, i) => leadChunks(leadNo + i, order++));
      leadNo += env.OP_BENCH_SLOW_LEADS;
      results.push(
        await measure('one lead per page', env.OP_BENCH_SLOW_LEADS, async () => {
          for (const lead of slow) {
            for (const page of lead) {
              await append(page);
              const head = (await store.headCheckpoint({ includeHeldBack: true }))!;
              await c.send({ cmd: 'until', transactionId: head.transactionId.toString(), globalPosition: head.globalPosition.toString() });
            }
          }
        }),
      );
    }
    await c.send({ cmd: 'stop' });

    // A fixed rate: a lead begins every 1/rate s and its chunks follow 60 ms apart (about as
    // fast as the services record them); the group follows the store at its own pace.
    const rates = env.OP_BENCH_RATES ?? [env.OP_BENCH_RATE];
    // The service's interval unless told otherwise (the first two phases run with the library's default).
    const intervals: number[] = env.OP_BENCH_MIN_READ_MS ?? [OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS];
    /** The group started with `interval`, fed `rate` leads a second for `seconds`, until it has applied them all. */
    const atRate = async (rate: number, interval: number, seconds: number, label: string | undefined) => {
      const rateLeads = Math.round(rate * seconds);
      log(`${label ?? `warming up at ${rate}/s`}: appending ${rateLeads} leads…`);
      const timed = Array.from({ length: rateLeads }, (_, i) => leadChunks(leadNo + i, order++)).flatMap((lead, i) => lead.map((page, k) => ({ at: (i * 1000) / rate + k * 60, page })));
      leadNo += rateLeads;
      timed.sort((x, y) => x.at - y.at);
      await c.send({ cmd: 'start', minReadIntervalMs: interval });
      const run = async () => {
        const t0 = performance.now();
        const appends: Promise<void>[] = [];
        for (const { at, page } of timed) {
          const wait = t0 + at - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          appends.push(append(page));
        }
        await Promise.all(appends);
        const head = (await store.headCheckpoint({ includeHeldBack: true }))!;
        await c.send({ cmd: 'until', transactionId: head.transactionId.toString(), globalPosition: head.globalPosition.toString() });
      };
      if (label === undefined) await run();
      else results.push(await measure(label, rateLeads, run));
      await c.send({ cmd: 'stop' });
    };
    // Unmeasured: the first phase would otherwise pay the process's warm-up (JIT, the connections' prepared statements).
    if (env.OP_BENCH_WARMUP_SECONDS > 0) await atRate(rates[0]!, intervals[0]!, env.OP_BENCH_WARMUP_SECONDS, undefined);
    for (let round = 1; round <= env.OP_BENCH_ROUNDS; round++) {
      for (const rate of rates) {
        for (const interval of intervals) {
          const label = `fixed rate ${rate}/s read ${interval} ms${env.OP_BENCH_ROUNDS > 1 ? ` round ${round}` : ''}`;
          await atRate(rate, interval, env.OP_BENCH_RATE_SECONDS, label);
        }
      }
    }

    for (const r of results) {
      log(`\n${r.phase} (${r.leads} leads): projector process ${r.processCpuMsPerLead.toFixed(2)} CPU-ms/lead; PostgreSQL backends ${r.pgBackendCpuMsPerLead.toFixed(2)} CPU-ms/lead, statements ${r.pgExecMsPerLead.toFixed(2)} ms exec + ${r.pgPlanMsPerLead.toFixed(2)} ms plan per lead, ${r.statementsPerLead.toFixed(1)} statements/lead, ${r.readsPerLead.toFixed(2)} reads/lead`);
      log('   calls/lead  mean exec  mean plan   rows  statement');
      for (const s of r.top) log(`   ${s.callsPerLead.toFixed(2).padStart(9)}  ${s.meanExec.toFixed(3).padStart(8)}  ${s.meanPlan.toFixed(3).padStart(8)}  ${s.meanRows.toFixed(1).padStart(6)}  ${s.query}`);
    }
    const json = Object.fromEntries(
      results.map((r) => [
        r.phase.replace(/ /g, '_'),
        { process_cpu_ms: +r.processCpuMsPerLead.toFixed(3), pg_backend_cpu_ms: +r.pgBackendCpuMsPerLead.toFixed(3), pg_exec_ms: +r.pgExecMsPerLead.toFixed(3), pg_plan_ms: +r.pgPlanMsPerLead.toFixed(3), statements: +r.statementsPerLead.toFixed(2), reads: +r.readsPerLead.toFixed(3) },
      ]),
    );
    process.stdout.write(`${JSON.stringify({ bench: 'operator-projections', per_lead: json })}\n`);
    const exited = new Promise((resolve) => proc!.once('exit', resolve));
    await c.send({ cmd: 'exit' }).catch(() => undefined);
    await exited;
    if (env.OP_BENCH_PROF) {
      for (const r of results) {
        const summary = await summariseProfiles(env.OP_BENCH_PROF, r.window, process.cwd(), 25);
        if (!summary) continue;
        log(`\nprofile of the projector process, ${r.phase}: ${summary.totalMs.toFixed(0)} ms sampled, idle ${(summary.idleShare * 100).toFixed(0)}%`);
        log(`   ${summary.origins.map((o) => `${o.origin} ${(o.share * 100).toFixed(1)}%`).join(', ')}`);
        for (const f of summary.functions) log(`   ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`);
      }
    }
    await store.close();
    await pool.end();
  } finally {
    if (proc && proc.exitCode === null) proc.kill();
    await admin.end();
    await server.stop();
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]!);
else await main();
