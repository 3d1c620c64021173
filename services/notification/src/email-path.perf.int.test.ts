/**
 * A micro-benchmark of the email path, not a test: skipped unless NOTIFICATION_PERF=1.
 *
 *   NOTIFICATION_PERF=1 npx vitest run services/notification/src/email-path.perf.int.test.ts
 *
 * The real service in this process (consumers, directory projection, nodemailer pool, the
 * local mail catcher, synchronous_commit=on on its connections) against the run's
 * PostgreSQL and NATS, the real relay as a child process, and the load (LeadApproved + four
 * LeadAssigned per lead) appended by another child process (testing/perf-driver.ts), so
 * that this process's CPU is the notification's alone. Prints, per phase: CPU ms of this
 * process per email, CPU ms of the service's PostgreSQL backends per email (from /proc),
 * statements, batches and transactions (the service's own, and the whole database's) per email. Phases: a warm-up, `burst` (all leads at once:
 * batches), `rate` (PERF_RATE leads/s, default 20: each lead nearly alone; a list, e.g. `12,36`, runs each rate in turn), `idle` (5 s without load).
 * The service's event store is on its own pool, as in the process (openServiceRuntime): its reads (the lead's LeadApproved, the directory
 * projector's pages) count in its statements and backends. Each lead also appends a StartLevelClaimed to a niche stream, as rotation does,
 * which wakes the directory projector (category `niche`) as it does under `npm start` (PERF_NICHE_EVENT=0: without).
 * PERF_PROFILE=<file>: a V8 CPU profile of the phases after the warm-up (open it in Chrome DevTools).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream } from '@nats-io/jetstream';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { openTestEnvironment, type TestEnvironment } from '@fairlead/service-testing';
import { startServiceProcess, waitFor, type ServiceProcess } from '@fairlead/testing';
import { backendCpuDelta, backendCpuMs, startCpuProfile, type CpuProfile } from '@fairlead/testing/perf';
import { startNotificationService, type NotificationService } from './service';
import { seedWorld, type World } from './testing/fixtures';

const enabled = process.env.NOTIFICATION_PERF === '1';
const here = dirname(fileURLToPath(import.meta.url));
const APP = 'notif-perf';
/** The statement that locks a batch's emails, once per batch (its name before and after migration 3). */
const BATCH_LOCKS = ['notification-outbox-lock-and-read', 'notification-outbox-claim'];

describe.skipIf(!enabled)('email path micro-benchmark', () => {
  let env: TestEnvironment;
  let relay: ServiceProcess;
  let pool: pg.Pool;
  let service: NotificationService;
  let store: PostgresEventStore;
  let worlds: World[];
  let statements = 0;
  /** The service's own transactions, counted at the client: each statement outside begin…commit, and each begin…commit/rollback. */
  let transactions = 0;
  const inTransaction = new WeakSet<pg.Client>();
  const byText = new Map<string, number>();
  let expected = 0;

  beforeAll(async () => {
    env = await openTestEnvironment('notif_perf', { declareStreams: true, connectionName: 'notif-perf' });
    relay = await startServiceProcess({ service: 'relay', env: { DATABASE_URL: env.db.url, NATS_URL: env.natsUrl, NATS_NAMESPACE: env.subjects.namespace } });
    pool = new pg.Pool({ connectionString: env.db.url, max: 10, idleTimeoutMillis: 0, application_name: APP, options: '-c synchronous_commit=on' });
    // Statements of the service's connections (the round trips it pays), counted at the client.
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client & { connectionParameters?: { application_name?: string } }, ...args: unknown[]) {
      const own = this.connectionParameters?.application_name === APP;
      if (own) {
        statements++;
        const q0 = args[0] as string | { text?: string };
        const text = (typeof q0 === 'string' ? q0 : (q0.text ?? '')).trim().toLowerCase();
        if (text === 'begin') inTransaction.add(this);
        else if (text === 'commit' || text === 'rollback') {
          inTransaction.delete(this);
          transactions++;
        } else if (!inTransaction.has(this)) transactions++;
      }
      // PERF_STATEMENTS=all: the event store's too (this process's other pool: the store the service reads leads and the log with).
      if (own || process.env.PERF_STATEMENTS === 'all') {
        const q = args[0] as string | { name?: string; text?: string };
        const key = (typeof q === 'string' ? q : (q.name ?? q.text ?? '?')).replace(/\s+/g, ' ').slice(0, 70);
        byText.set(key, (byText.get(key) ?? 0) + 1);
      }
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    worlds = [];
    for (let i = 0; i < 16; i++) worlds.push(await seedWorld(env.store));
    // The service's store on the service's pool, as openServiceRuntime gives it.
    store = createPostgresEventStore({ pool });
    service = await startNotificationService({
      pool,
      store,
      nc: env.nc,
      js: jetstream(env.nc),
      subjects: env.subjects,
      logger: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false })),
      // PERF_GATHER_MS: the assignment batches' gather window (the service's default otherwise).
      config: { declareStreams: false, ...(process.env.PERF_GATHER_MS ? { assignmentGatherMs: Number(process.env.PERF_GATHER_MS) } : {}) },
    });
    await service.caughtUp();
  }, 600_000);

  afterAll(async () => {
    await service?.stop();
    await relay?.stop();
    await store?.close();
    await pool?.end();
    await env?.close();
  });

  async function counters() {
    const { rows } = await env.db.pool.query<{ xact: string; sent: string; caught: string }>(
      `select (select xact_commit + xact_rollback from pg_stat_database where datname = current_database())::text as xact,
              (select count(*) from notification.outbox where status = 'sent')::text as sent,
              (select count(*) from notification.caught_mail)::text as caught`,
    );
    return { xact: Number(rows[0]!.xact), sent: Number(rows[0]!.sent), caught: Number(rows[0]!.caught) };
  }

  async function phase(name: string, leads: number, rate: number): Promise<void> {
    const driver: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', resolve(here, 'testing/perf-driver.ts')], {
      cwd: here,
      env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: env.db.url, PERF_WORLDS: JSON.stringify(worlds), PERF_LEADS: String(leads), PERF_RATE: String(rate), PERF_NICHE_EVENT: process.env.PERF_NICHE_EVENT ?? '1' },
    });
    const exited = once(driver, 'exit');
    driver.stderr.pipe(process.stderr);
    await once(driver.stdout, 'data');
    expected += leads * 4;
    const before = await counters();
    const pg0 = await backendCpuMs(env.db.pool, { applicationName: APP });
    const statements0 = statements;
    const transactions0 = transactions;
    byText.clear();
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    driver.stdin.write('go\n');
    await waitFor(
      async () => {
        const c = await counters();
        return c.sent >= expected && c.caught >= expected ? c : undefined;
      },
      { what: `${name}: every email sent and caught`, timeoutMs: 600_000, intervalMs: 250 },
    );
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - wall0;
    const stmts = statements - statements0;
    const pgMs = backendCpuDelta(pg0, await backendCpuMs(env.db.pool, { applicationName: APP }));
    const after = await counters();
    const emails = leads * 4;
    const ms = (cpu.user + cpu.system) / 1000;
    const line = {
      phase: name,
      leads,
      rate,
      emails,
      wall_s: +(wall / 1000).toFixed(1),
      notification_cpu_ms_per_email: +(ms / emails).toFixed(3),
      notification_cpu_ms_per_lead: +(ms / leads).toFixed(2),
      // null: /proc not readable.
      pg_backend_cpu_ms_per_email: pgMs === undefined ? null : +(pgMs / emails).toFixed(3),
      pg_backend_cpu_ms_per_lead: pgMs === undefined ? null : +(pgMs / leads).toFixed(2),
      statements_per_email: +(stmts / emails).toFixed(2),
      statements_per_lead: +(stmts / leads).toFixed(2),
      // Batches (one call that locks their emails each): at a low rate the per-batch statements are most of the cost.
      emails_per_batch: +(emails / Math.max(1, BATCH_LOCKS.reduce((n, name) => n + (byText.get(name) ?? 0), 0))).toFixed(2),
      // The service's own commits (autocommit statements and begin…commit blocks, counted at its client).
      service_transactions_per_email: +((transactions - transactions0) / emails).toFixed(2),
      // Every commit of the database (the relay's, the directory projector's and the load's included).
      db_transactions_per_email: +((after.xact - before.xact) / emails).toFixed(2),
    };
    console.log(`PERF ${JSON.stringify(line)}`);
    if (process.env.PERF_STATEMENTS) {
      for (const [text, n] of [...byText].sort((a, b) => b[1] - a[1])) console.log(`  ${(n / leads).toFixed(3)}/lead  ${text}`);
    }
    await exited;
  }

  /** The process's CPU over 5 s without load: what the low rate pays per second whatever it sends. */
  async function idle(): Promise<void> {
    const cpu0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 5_000));
    const cpu = process.cpuUsage(cpu0);
    console.log(`PERF ${JSON.stringify({ phase: 'idle', notification_cpu_ms_per_s: +((cpu.user + cpu.system) / 1000 / 5).toFixed(2) })}`);
  }

  it('measures', async () => {
    const leads = Number(process.env.PERF_LEADS ?? 300);
    const rates = (process.env.PERF_RATE ?? '20').split(',').map(Number);
    // PERF_PHASES: a comma-separated choice (e.g. `warmup,rate,rate` to profile the low rate alone).
    const phases = (process.env.PERF_PHASES ?? 'warmup,burst,rate,burst,rate').split(',');
    let profiler: CpuProfile | undefined;
    for (const name of phases) {
      if (!profiler && name !== 'warmup') profiler = await startCpuProfile(process.env.PERF_PROFILE);
      if (name === 'warmup') await phase('warmup', 100, 0);
      else if (name === 'burst') await phase('burst', leads, 0);
      else if (name === 'rate') for (const rate of rates) await phase('rate', Math.max(40, Math.round(leads / 2)), rate);
      else if (name === 'idle') await idle();
      else throw new Error(`unknown phase ${name}`);
    }
    await profiler?.stop();
  }, 1_800_000);
});
