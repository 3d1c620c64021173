/**
 * Micro-benchmark of sending a batch of emails to the local mail catcher, alone: the outbox's
 * claim, the rendered emails over the nodemailer pool to the catcher (in this process, as in
 * `npm start`), the catcher's store, the outbox's finish — deliverMany() as leadAssignedBatch
 * calls it, without NATS, the relay or the directory. Batches go one after another with a gap
 * (PERF_GAP_MS, default 20), so each is alone as at a low lead rate. Prints per email: CPU ms of
 * this process (process.cpuUsage) and of its PostgreSQL backends (/proc), statements and commits
 * of its connections (counted at the client), and the database's commits (pg_stat_database).
 *
 *   npx vitest run -c services/notification/perf/vitest.config.ts
 *   PERF_EMAILS=800 PERF_BATCHES=1,4,1,4 PERF_GAP_MS=20 npx vitest run -c services/notification/perf/vitest.config.ts
 *   PERF_PROFILE=/tmp/send.cpuprofile …   # a V8 CPU profile of the measured phases, and its top functions printed
 *   PERF_PING=1 …   # first: the CPU of a `select 1` round trip back to back and after PERF_GAP_MS idle (what a wake-up costs)
 */
import { randomUUID } from 'node:crypto';
import type { Profiler } from 'node:inspector';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { backendCpuDelta, backendCpuMs, startCpuProfile } from '@fairlead/testing/perf';
import { deliverMany, type NewOutboxEmail, type OutboxRow } from '../src/application/outbox';
import { loadTemplates, type TemplateSet } from '../src/application/templates';
import { leadAssignedVariables, outboxId } from '../src/domain/emails';
import { migrateNotification } from '../src/schema';
import { startMailCatcher, type MailCatcher } from '../src/smtp/catcher';
import { createSmtpSender, describeSmtpFailure, isPermanentSmtpFailure, type MailSender } from '../src/smtp/sender';

const EMAILS = Number(process.env.PERF_EMAILS ?? 400);
const BATCHES = (process.env.PERF_BATCHES ?? '1,4,1,4').split(',').map(Number);
const GAP_MS = Number(process.env.PERF_GAP_MS ?? 20);
const PROFILE = process.env.PERF_PROFILE;
const APP = 'notif-send-perf';

let db: TestDatabase;
let pool: pg.Pool;
let catcher: MailCatcher;
let sender: MailSender;
let templates: TemplateSet;
let statements = 0;
let commits = 0;
const byName = new Map<string, number>();

beforeAll(async () => {
  db = await createTestDatabase('notif_send_perf');
  await migrateNotification(db.pool);
  // As the service's pool: durable commits (npm start runs with synchronous_commit=on; the test server with off).
  pool = new pg.Pool({ connectionString: db.url, max: 10, idleTimeoutMillis: 0, application_name: APP, options: '-c synchronous_commit=on' });
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client & { connectionParameters?: { application_name?: string } }, ...args: unknown[]) {
    if (this.connectionParameters?.application_name === APP) {
      statements++;
      // Every statement here is autocommit (no begin…commit on these paths).
      commits++;
      const q = args[0] as string | { name?: string; text?: string };
      const key = (typeof q === 'string' ? q : (q.name ?? q.text ?? '?')).replace(/\s+/g, ' ').slice(0, 60);
      byName.set(key, (byName.get(key) ?? 0) + 1);
    }
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  templates = await loadTemplates();
  catcher = await startMailCatcher({ pool, logger: pino({ level: 'silent' }) });
  // As service.ts: a connection for each email two consumers may send at once.
  sender = createSmtpSender({ url: catcher.url, maxConnections: 8 });
});

afterAll(async () => {
  sender?.close();
  await catcher?.stop();
  await pool?.end();
  await db?.drop();
});

const FROM = 'Fairlead <no-reply@fairlead.local>';
const options = { isPermanent: isPermanentSmtpFailure, describe: describeSmtpFailure };
const send = (row: OutboxRow) => sender.send({ from: FROM, to: row.recipient, subject: row.subject, text: row.text_body, html: row.html_body, messageId: row.message_id });

/** A lead_assigned email as leadAssignedBatch records it (the shipped templates). */
function email(k: number): NewOutboxEmail {
  const sourceEventId = randomUUID();
  const id = outboxId('lead_assigned', sourceEventId);
  const rendered = templates.render(
    'lead_assigned',
    leadAssignedVariables({
      provider: { name: `Acme Roofing ${k}`, email: `pro-${k}@example.com` },
      nicheName: 'Roofing',
      levelName: 'Gold',
      priceCents: 2500,
      assignedAt: new Date().toISOString(),
      lead: { lead_id: `lead-${sourceEventId}`, postal_code: '78701', state: 'tx', city: 'Austin', consumer_first_name: 'Maria' },
    }),
  );
  return { id, kind: 'lead_assigned', sourceEventId, sourceStream: `lead-${sourceEventId}`, recipient: `pro-${k}@example.com`, ...rendered, messageId: `<${id}@fairlead.notification>` };
}

/** The database's commits so far (the stats of other backends reach it within a second: read after a pause). */
async function databaseCommits(): Promise<number> {
  await new Promise((r) => setTimeout(r, 1_100));
  const { rows } = await db.pool.query<{ n: string }>(`select pg_stat_clear_snapshot(), (select xact_commit from pg_stat_database where datname = current_database())::text as n`);
  return Number(rows[0]!.n);
}

async function run(batch: number, emails: number): Promise<void> {
  const batches = Math.ceil(emails / batch);
  for (let b = 0; b < batches; b++) {
    const results = await deliverMany(
      pool,
      Array.from({ length: batch }, (_, k) => ({ id: '', record: email(k), final: false })).map((d) => ({ ...d, id: d.record.id })),
      send,
      options,
    );
    for (const r of results.values()) expect(r.status).toBe('sent');
    if (GAP_MS > 0) await new Promise((r) => setTimeout(r, GAP_MS));
  }
}

/** The functions (and packages) with the most self time in a V8 CPU profile. */
function topOfProfile(profile: Profiler.Profile): void {
  const self = new Map<number, number>();
  profile.samples?.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas?.[i] ?? 0)));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    total += us;
    const file = url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/(services|libs)\//, '$1/');
    byFunction.set(`${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`, (byFunction.get(`${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`) ?? 0) + us);
    const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.startsWith('node:') ? url : url === '' ? functionName : /\/(services|libs)\//.test(url) ? 'fairlead' : url.slice(0, 40));
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const print = (title: string, m: Map<string, number>, n: number) => {
    console.log(`${title} (self time, ${(total / 1000).toFixed(0)} ms sampled)`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  };
  print('by package', byPackage, 20);
  print('by function', byFunction, 40);
}

it('measures', async () => {
  await run(4, 200); // warm-up: every statement prepared on every connection, the JIT warm
  const profiler = await startCpuProfile(PROFILE, { samplingIntervalUs: 200 });
  // A round trip after an idle gap costs this process several times one back to back (wake-ups on this machine).
  if (process.env.PERF_PING) {
    for (const gap of [GAP_MS, 0]) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < 300; i++) {
        await pool.query({ name: 'ping', text: 'select 1' });
        if (gap > 0) await new Promise((r) => setTimeout(r, gap));
      }
      const c = process.cpuUsage(c0);
      const g0 = process.cpuUsage();
      for (let i = 0; i < 300; i++) if (gap > 0) await new Promise((r) => setTimeout(r, gap));
      const g = process.cpuUsage(g0);
      console.log(`PING gap ${gap}: ${((c.user + c.system) / 300 / 1000).toFixed(3)} ms per round trip incl. gap; the gap alone ${((g.user + g.system) / 300 / 1000).toFixed(3)} ms`);
    }
  }
  for (const batch of BATCHES) {
    const dbCommits0 = await databaseCommits();
    const pg0 = await backendCpuMs(db.pool, { applicationName: APP });
    const statements0 = statements;
    const commits0 = commits;
    byName.clear();
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    await run(batch, EMAILS);
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - wall0;
    const pgMs = backendCpuDelta(pg0, await backendCpuMs(db.pool, { applicationName: APP }));
    // Two statements of databaseCommits() (its select and the one of backendCpuMs) are the admin pool's own commits.
    const dbCommits = (await databaseCommits()) - dbCommits0 - 2;
    const line = {
      batch,
      emails: EMAILS,
      wall_s: +(wall / 1000).toFixed(1),
      cpu_ms_per_email: +((cpu.user + cpu.system) / 1000 / EMAILS).toFixed(3),
      // null: /proc not readable.
      pg_backend_cpu_ms_per_email: pgMs === undefined ? null : +(pgMs / EMAILS).toFixed(3),
      statements_per_email: +((statements - statements0) / EMAILS).toFixed(3),
      commits_per_email: +((commits - commits0) / EMAILS).toFixed(3),
      db_commits_per_email: +(dbCommits / EMAILS).toFixed(3),
    };
    console.log(`PERF ${JSON.stringify(line)}`);
    for (const [name, n] of [...byName].sort((a, b) => b[1] - a[1])) console.log(`  ${(n / EMAILS).toFixed(3)}/email  ${name}`);
  }
  const profile = await profiler.stop();
  if (profile) topOfProfile(profile);
});
