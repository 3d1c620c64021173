/**
 * `npm run bench:distribution` — the lead distribution benchmark (not a test). Runs relay, intake,
 * rotation, fairness and billing as real processes on an embedded PostgreSQL and a
 * nats-server of its own (or DATABASE_URL / NATS_URL), seeds 5 niches × 3 levels × 50
 * providers per level through the services' NATS commands, then:
 *   1. saturation: publishes `lead.approved` as fast as leads are absorbed (a bounded
 *      window in flight) → leads/s from the first publish to the last outcome recorded;
 *   2. fixed rate (half the saturation rate, 30 s) → p50/p95/p99 from publish to the outcome's
 *      `created_at` in the store;
 *   3. events appended per lead (every stream), CPU per process, PostgreSQL's side;
 *   4. a baseline on the same PostgreSQL: one transaction per lead that locks the wallets
 *      and writes the assignment and ledger rows, niches in parallel.
 * Steps 1–4 run twice on the same services: with `synchronous_commit=on` (durable, as
 * `npm start` runs PostgreSQL: the headline) and with `off` (BENCH_COMMIT=both, the
 * default; `on` or `off` measures one). Prints a table per setting, a comparison and,
 * last, one line of JSON (top-level figures: the durable setting's).
 *
 * BENCH_LEADS (3000), BENCH_WINDOW (250), BENCH_WARMUP (300), BENCH_RATE (`half`: half the
 * saturation rate this setting just measured; or leads/s), BENCH_RATE_SECONDS (30),
 * BENCH_BASELINE_LEADS (3000) change the run; BENCH_QUICK=1 is a short run for iterating
 * (1000 leads, 150 warm-up, 15 s at the fixed rate, durable setting only; any variable given
 * still wins). BENCH_WITH (default `operator-api,notification`: the whole lead path of
 * `npm start`; `none` for the five distribution services alone, `all` adds ticket-workflow)
 * picks the services besides the five. BENCH_COMMIT (both, on, off) picks the commit
 * settings measured. BENCH_REPLICAS=2 runs two processes of every service on a local
 * three-node NATS cluster with three-replica streams (BENCH_NATS_CLUSTER=1|3|5 sets the
 * nodes), to compare with the single-replica figure. BENCH_PROFILE=1 (BENCH_PROFILE_DIR to
 * keep the files) runs every service under `node --cpu-prof` and counts NATS messages
 * (slower; for the profile, not for the figures). Other variables (e.g.
 * DISTRIBUTION_CONCURRENCY) reach the services unchanged.
 */
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { z } from 'zod';
import { MONEY_LIMITS, subjectsFor, type BusIdentity } from '@fairlead/contracts';
import { busIdentityOfService, type BusCredentials } from '@fairlead/local-servers';
import { createPostgresEventStore } from '@fairlead/event-store';
import { connectNats, declareStreams, drainAndClose, fairleadStreams } from '@fairlead/messaging';
import { measureBaseline } from './distribution/baseline';
import { commitSettingsToMeasure, currentSynchronousCommit, setSynchronousCommit, type CommitSetting } from './distribution/commit-setting';
import { openBenchInfra } from './distribution/infra';
import { drainedEnd, markDrain, waitForDrain } from './distribution/drain';
import { hopLatencies, type Hop } from './distribution/hops';
import { fixedRate, OutcomeTracker, publisher, saturate, type PhaseResult } from './distribution/load';
import { startObserving, type PhaseCost } from './distribution/observe';
import { enableStatements } from './distribution/pg-stats';
import { servicesToRun, startServices, tail, type CpuSource, type RunningService, type ServiceName } from './distribution/processes';

/** BENCH_WITH=operator-api,notification adds the rest of `npm start` to the five services measured. */
const SERVICES = servicesToRun(process.env.BENCH_WITH);
/** BENCH_REPLICAS=2: two processes of every service, on a three-node NATS cluster unless BENCH_NATS_CLUSTER says otherwise. */
const REPLICAS = Number(process.env.BENCH_REPLICAS ?? 1);
const NATS_NODES = Number(process.env.BENCH_NATS_CLUSTER ?? (REPLICAS > 1 ? 3 : 1));
if (!Number.isInteger(REPLICAS) || REPLICAS < 1 || REPLICAS > 5) throw new Error(`BENCH_REPLICAS: expected 1 to 5, got ${process.env.BENCH_REPLICAS}`);
if (![1, 3, 5].includes(NATS_NODES)) throw new Error(`BENCH_NATS_CLUSTER: expected 1, 3 or 5, got ${process.env.BENCH_NATS_CLUSTER}`);
import { summariseProfiles, type ProfileSummary } from './distribution/profile';
import { printReport, type MeasuredPhase, type SettingRun } from './distribution/report';
import { commander, LEVELS, seedMarket } from './distribution/seed';

/** BENCH_QUICK=1: a short run for iterating on a change (the defaults below, smaller). */
const QUICK = process.env.BENCH_QUICK === '1';
const num = (name: string, fallback: number, quick = fallback) => {
  const value = Number(process.env[name] ?? (QUICK ? quick : fallback));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: expected a positive number, got ${process.env[name]}`);
  return value;
};
const LEADS = num('BENCH_LEADS', 3_000, 1_000);
const WINDOW = num('BENCH_WINDOW', 250);
const WARMUP = num('BENCH_WARMUP', 300, 150);
/** `half` (default): half the saturation rate the same setting just measured, the issue's operating point. */
const RATE_SETTING = process.env.BENCH_RATE ?? 'half';
const FIXED_RATE: number | 'half' = RATE_SETTING === 'half' ? 'half' : num('BENCH_RATE', 100);
const RATE_SECONDS = num('BENCH_RATE_SECONDS', 30, 15);
/** Seconds with no leads after the warm-up: what the system costs doing nothing (polls, heartbeats, timers). */
const IDLE_SECONDS = num('BENCH_IDLE_SECONDS', 10, 5);
const BASELINE_LEADS = num('BENCH_BASELINE_LEADS', 3_000, 1_000);
const PROFILE = process.env.BENCH_PROFILE === '1';
/** BENCH_PROFILE_PHASE: the phase whose profile is summarised, `saturation` (default) or `fixed` (where a lead costs most). */
const PROFILE_PHASE = z.enum(['saturation', 'fixed']).parse(process.env.BENCH_PROFILE_PHASE ?? 'saturation');
/** BENCH_TRAFFIC=1: count every NATS message by kind in both measured phases (BENCH_PROFILE does so too, in its saturation phase). */
const TRAFFIC = process.env.BENCH_TRAFFIC === '1';
/** BENCH_NICHES: niches the leads spread over (5); 1 sends every lead through one niche's lock and one key of the consumer. */
const NICHES = num('BENCH_NICHES', 5);
if (!Number.isInteger(NICHES) || NICHES > 100) throw new Error(`BENCH_NICHES: expected a whole number from 1 to 100, got ${process.env.BENCH_NICHES}`);
const PROVIDERS_PER_LEVEL = 50;
// Enough for every lead of the run (both commit settings: about $5,000 per Gold provider),
// nobody declined or paused for lack of funds; one top-up, so within MONEY_LIMITS.maxTopUpCents.
const BALANCE_CENTS = MONEY_LIMITS.maxTopUpCents;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const log = (line: string) => process.stderr.write(`bench:distribution | ${line}\n`);

const loadBefore = loadavg();
// BENCH_NATS_AUTH=off runs the bus without authorization, to measure what it costs (issue 11: at most 10 % of leads/s).
const NATS_AUTH = process.env.BENCH_NATS_AUTH !== 'off';
const infra = await openBenchInfra({ natsNodes: NATS_NODES, natsAuth: NATS_AUTH });
log(`NATS authorization ${infra.bus ? 'on (one identity per service, upstream publishes)' : 'off'}`);
let services: RunningService[] = [];
try {
  const subjects = subjectsFor(infra.namespace);
  const pool = new pg.Pool({ connectionString: infra.databaseUrl, max: 6 });
  const store = createPostgresEventStore({ pool });
  await store.migrate();
  // The benchmark declares streams, seeds and watches as admin, and publishes leads as upstream does.
  const as = (identity: BusIdentity) => (infra.bus ? { credentials: { nkeySeed: infra.bus.seed(identity) } } : {});
  const nc = await connectNats({ servers: infra.natsUrl.split(','), name: 'bench-distribution', ...as('admin') });
  const upstreamNc = await connectNats({ servers: infra.natsUrl.split(','), name: 'bench-upstream', ...as('upstream') });
  const js = jetstream(upstreamNc);
  await declareStreams(await jetstreamManager(nc), fairleadStreams(subjects, { replicas: infra.natsNodes }));
  const statements = await enableStatements(pool);

  // BENCH_PROFILE_DIR keeps the .cpuprofile files (open them in Chrome DevTools); else they go with the temp dir.
  const profileDir = process.env.BENCH_PROFILE_DIR ?? join(infra.workDir, 'profiles');
  log(`starting ${SERVICES.join(', ')}${PROFILE ? ' under --cpu-prof' : ''}…`);
  services = await startServices({
    repoRoot,
    workDir: infra.workDir,
    env: {
      DATABASE_URL: infra.databaseUrl,
      NATS_URL: infra.natsUrl,
      NATS_NAMESPACE: infra.namespace,
      NATS_STREAM_REPLICAS: String(infra.natsNodes),
      LOG_LEVEL: 'warn',
      // Generated development secrets and tokens go with the temporary directory, not the clone's .data.
      FAIRLEAD_DATA_DIR: join(infra.workDir, 'data'),
    },
    replicas: REPLICAS,
    perService: Object.fromEntries(
      Object.entries(seedFiles(infra.bus, SERVICES, { relay: { RELAY_LOCK_KEY: String(Math.floor(Math.random() * 1e12)) } })).map(([s, env]) => [s, { ...infra.databaseFor(s), ...env }]),
    ),
    services: SERVICES,
    ...(PROFILE ? { profile: SERVICES, profileDir } : {}),
  });

  const seedStarted = Date.now();
  log(`seeding ${NICHES} niches × ${LEVELS.length} levels × ${PROVIDERS_PER_LEVEL} providers per level…`);
  const niches = await seedMarket(commander(nc, subjects), { niches: NICHES, providersPerLevel: PROVIDERS_PER_LEVEL, balanceCents: BALANCE_CENTS });
  log(`seeded in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);
  const nicheIds = niches.map((n) => n.nicheId);

  const tracker = new OutcomeTracker(nc, subjects);
  const pub = publisher(js, subjects, tracker);
  const cpu: Record<string, CpuSource> = Object.fromEntries(services.map((s) => [s.instance, { pid: s.pid }]));
  const postmaster = await infra.postgresPid();
  if (postmaster) cpu.postgres = { tree: postmaster };
  infra.natsPids().forEach((pid, i) => (cpu[infra.natsNodes > 1 ? `nats-server n${i + 1}` : 'nats-server'] = { pid }));
  cpu.benchmark = { pid: process.pid };

  /** With notification or the operator API, a phase ends when they are done with its leads too (drain.ts). */
  const drainsToo = SERVICES.includes('notification') || SERVICES.includes('operator-api');
  const untilDrained = async (phase: PhaseResult, mark: Awaited<ReturnType<typeof markDrain>>): Promise<PhaseResult> => {
    if (!drainsToo) return phase;
    const drain = await waitForDrain(pool, SERVICES, mark, phase.leads);
    return { ...phase, endedAt: drainedEnd(phase.outcomesEndedAt, drain), drain };
  };

  // Durable commits first (the headline, as `npm start` runs), then without, on the same services.
  const settings = commitSettingsToMeasure(process.env.BENCH_COMMIT ?? (QUICK ? 'on' : undefined), infra.ownPostgres);
  const measured: { setting: string; commit: CommitSetting | undefined; idle: PhaseCost; saturation: MeasuredPhase; fixed: MeasuredPhase; rate: number; failedAttempts: number; hops: Hop[] }[] = [];
  for (const commit of settings === 'server' ? [undefined] : settings) {
    if (commit) await setSynchronousCommit(infra.serverUrl, commit);
    const setting = `synchronous_commit=${commit ?? (await currentSynchronousCommit(infra.databaseUrl))}`;
    const tag = commit ?? 'server';
    const failedBefore = tracker.failedAttempts;
    log(`${setting}: warm-up: ${WARMUP} leads…`);
    const warmupMark = await markDrain(pool, SERVICES);
    await untilDrained(await saturate(pub, tracker, { count: WARMUP, window: WINDOW, niches: nicheIds, phase: `warmup-${tag}` }), warmupMark);

    log(`${setting}: idle: ${IDLE_SECONDS} s without leads…`);
    const idleObserver = await startObserving({ pool, cpu, statements });
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1_000));
    const idle = await idleObserver.finish();

    log(`${setting}: saturation: ${LEADS} leads, at most ${WINDOW} in flight…`);
    const profiling = PROFILE && measured.length === 0;
    const counting = (profiling || TRAFFIC) && measured.length === 0 ? { traffic: { nc, namespace: infra.namespace } } : {};
    const saturationMark = await markDrain(pool, SERVICES);
    const saturationObserver = await startObserving({ pool, cpu, statements, ...counting });
    const saturationResult = await untilDrained(await saturate(pub, tracker, { count: LEADS, window: WINDOW, niches: nicheIds, phase: `saturation-${tag}` }), saturationMark);
    const saturation: MeasuredPhase = { name: 'saturation', result: saturationResult, cost: await saturationObserver.finish() };
    const saturationRate = LEADS / ((saturationResult.endedAt - saturationResult.startedAt) / 1000);
    log(`${setting}: saturation: ${saturationRate.toFixed(1)} leads/s${drainsToo ? ` (outcomes alone: ${(LEADS / ((saturationResult.outcomesEndedAt - saturationResult.startedAt) / 1000)).toFixed(1)})` : ''}`);

    const rate = FIXED_RATE === 'half' ? Math.max(1, Math.round(saturationRate / 2)) : FIXED_RATE;
    log(`${setting}: fixed rate: ${rate} leads/s${FIXED_RATE === 'half' ? ' (half the saturation rate)' : ''} for ${RATE_SECONDS} s…`);
    const fixedMark = await markDrain(pool, SERVICES);
    const fixedObserver = await startObserving({ pool, cpu, statements, ...(TRAFFIC && measured.length === 0 ? counting : {}) });
    const fixedResult = await untilDrained(await fixedRate(pub, tracker, { ratePerSecond: rate, durationS: RATE_SECONDS, niches: nicheIds, phase: `fixed-${tag}` }), fixedMark);
    const fixed: MeasuredPhase = { name: 'fixed', result: fixedResult, cost: await fixedObserver.finish() };
    measured.push({ setting, commit, idle, saturation, fixed, rate, failedAttempts: tracker.failedAttempts - failedBefore, hops: await hopLatencies(pool, fixedResult.leads) });
  }
  tracker.close();

  // Cheap checks that the figures are of a correct run, straight from billing's tables.
  const { rows: checks } = await pool.query<{ negative: number; charges: number; doubled: number }>(
    `select (select count(*)::int from billing.wallets where balance_cents < 0) as negative,
            (select count(*)::int from billing.charges where charged) as charges,
            (select count(*)::int from (select 1 from billing.charges group by lead_id, provider_id having count(*) > 1) d) as doubled`,
  );
  const allLeads = [...tracker.leads.values()];
  const assignments = allLeads.reduce((s, l) => s + (l.assignments ?? 0), 0);
  if (checks[0]!.negative !== 0 || checks[0]!.doubled !== 0 || checks[0]!.charges !== assignments) {
    throw new Error(`invariant check failed: ${JSON.stringify(checks[0])}, assignments in outcomes ${assignments}`);
  }

  const versions = await pool.query<{ v: string }>('select current_setting($1) as v', ['server_version']);
  const machine = [
    `machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), node ${process.version}, PostgreSQL ${versions.rows[0]!.v}, nats-server ${nc.info?.version ?? '?'}; ${infra.origin}`,
    `load average before the run: ${loadBefore.map((l) => l.toFixed(2)).join(' ')} (the machine may be shared); after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `services: ${SERVICES.join(', ')}${QUICK ? ' (BENCH_QUICK: a short run)' : ''}, the defaults of each main.ts (DISTRIBUTION_CONCURRENCY=${process.env.DISTRIBUTION_CONCURRENCY ?? 'default'}), LOG_LEVEL=warn${PROFILE ? '; PROFILING (--cpu-prof, NATS counting): figures are lower than without' : ''}`,
  ];

  log('stopping the services…');
  await Promise.all(services.map((s) => s.stop()));
  const profiles: Record<string, ProfileSummary | undefined> = {};
  if (PROFILE) {
    for (const s of services) profiles[s.instance] = await summariseProfiles(join(profileDir, s.instance), measured[0]![PROFILE_PHASE].cost.window, repoRoot);
  }
  for (const s of services) {
    const text = await tail(s.logFile, 5);
    if (text.trim()) log(`${s.instance} said (last lines):\n${text}`);
  }
  services = [];

  const runs: SettingRun[] = [];
  for (const m of measured) {
    if (m.commit) await setSynchronousCommit(infra.serverUrl, m.commit);
    log(`${m.setting}: baseline: ${BASELINE_LEADS} leads directly in PostgreSQL…`);
    const baseline = await measureBaseline(infra.databaseUrl, { niches, levels: LEVELS, leads: BASELINE_LEADS, balanceCents: BALANCE_CENTS });
    runs.push({ setting: m.setting, idle: m.idle, saturation: m.saturation, fixed: m.fixed, rate: m.rate, baseline, failedAttempts: m.failedAttempts, hops: m.hops });
  }

  await drainAndClose(upstreamNc);
  await drainAndClose(nc);
  await store.close();
  await pool.end();
  printReport({
    machine,
    market: { niches: NICHES, providersPerLevel: PROVIDERS_PER_LEVEL, levels: LEVELS },
    window: WINDOW,
    rateRule: FIXED_RATE === 'half' ? 'half the saturation rate' : 'BENCH_RATE',
    runs,
    profiles,
    profilePhase: PROFILE_PHASE,
    topology: { replicas: REPLICAS, natsNodes: infra.natsNodes },
  });
} finally {
  await Promise.all(services.map((s) => s.stop()));
  await infra.dispose();
}

/** Each service's environment: its own seed file when our server authorizes (as under npm start), plus `extra`. */
function seedFiles(bus: BusCredentials | undefined, services: readonly ServiceName[], extra: Partial<Record<ServiceName, Record<string, string>>>): Partial<Record<ServiceName, Record<string, string>>> {
  const env: Partial<Record<ServiceName, Record<string, string>>> = {};
  for (const name of services) {
    const identity = bus ? busIdentityOfService(name) : undefined;
    env[name] = { ...(identity ? { NATS_NKEY_SEED_FILE: bus!.seedFile(identity) } : {}), ...extra[name] };
  }
  return env;
}
