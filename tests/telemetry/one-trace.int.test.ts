/**
 * One lead, one trace: intake, the relay, fairness, rotation, billing and notification
 * run in-process (their start functions, each with its own pool and event store, as
 * their processes would) on the run's PostgreSQL and NATS, with OpenTelemetry on and an
 * in-memory exporter. A lead.approved published inside a root span must come out as one
 * connected trace down to the SMTP send of the provider's email: context in NATS headers
 * between services, and in event metadata across the event store to the relay.
 */
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectsFor, type Subjects } from '@fairlead/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { startBillingService } from '@fairlead/billing';
import { startFairnessService } from '@fairlead/fairness';
import { startIntakeService } from '@fairlead/intake';
import { connectNats, declareStreams, drainAndClose, fairleadStreams, publishDurable, request } from '@fairlead/messaging';
import { startNotificationService } from '@fairlead/notification';
import { startTelemetry, type Telemetry } from '@fairlead/platform/telemetry';
import { startRelay } from '@fairlead/relay';
import { startRotationService } from '@fairlead/rotation';
import { createTestDatabase, testNamespace, testNatsUrl, waitFor, type TestDatabase } from '@fairlead/testing';

const exporter = new InMemorySpanExporter();
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const idOf = (s: ReadableSpan) => s.spanContext().spanId;
const traceOf = (s: ReadableSpan) => s.spanContext().traceId;
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const group = (s: ReadableSpan) => s.attributes['messaging.consumer.group.name'];
const isPg = (s: ReadableSpan) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql';
// Spans of our own messaging (handlers, relay publishes, SMTP): the ones a lead's flow makes.
const isFlow = (s: ReadableSpan) => /^(process|handle|relay publish) /.test(s.name) || s.name === 'smtp send';

let telemetry: Telemetry;
let db: TestDatabase;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let subjects: Subjects;
const cleanups: (() => Promise<unknown>)[] = [];

/** A pool and an event store of its own, as each service process has. */
async function processResources(max = 12): Promise<{ pool: pg.Pool; store: PostgresEventStore }> {
  const pool = new pg.Pool({ connectionString: db.url, max });
  pool.on('error', () => undefined);
  const store = createPostgresEventStore({ pool });
  cleanups.push(async () => {
    await store.close();
    await pool.end();
  });
  return { pool, store };
}

const command = <T>(service: string, verb: string, body: unknown) => request(nc, subjects.command(service, verb), body, { timeoutMs: 10_000 }) as Promise<T>;

beforeAll(async () => {
  // First: the SDK, the NATS propagator and the event-metadata hook are process-wide.
  telemetry = await startTelemetry({ serviceName: 'fairlead-trace-test', exporter, env: {} });
  db = await createTestDatabase('one_trace');
  db.pool.on('error', () => undefined);
  await createPostgresEventStore({ pool: db.pool }).migrate();
  nc = await connectNats({ servers: testNatsUrl(), name: 'one-trace' });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  subjects = subjectsFor(testNamespace('one_trace'));
  await declareStreams(jsm, fairleadStreams(subjects));
  const common = { nc, subjects, logger };
  const backoffMs = [200, 400, 800];

  const rotation = await startRotationService({ ...common, ...(await processResources()) });
  cleanups.push(() => rotation.stop());
  const billing = await startBillingService({ ...common, ...(await processResources()) });
  cleanups.push(() => billing.stop());
  const fairness = await startFairnessService({ ...common, js, ...(await processResources()), config: { backoffMs, ackWaitMs: 5_000 } });
  cleanups.push(() => fairness.stop());
  const intake = await startIntakeService({ ...common, ...(await processResources()), config: { backoffMs } });
  cleanups.push(() => intake.stop());
  const notification = await startNotificationService({ ...common, js, ...(await processResources()), config: { backoffMs } });
  cleanups.push(() => notification.stop());
  const relayResources = await processResources(4);
  const relay = await startRelay({ ...relayResources, js, subjects, logger, batchSize: 100 });
  cleanups.push(() => relay.stop());

  // The market: one niche with one level, one funded provider subscribed to it.
  await command('rotation', 'create_niche', { niche_id: 'roofing', name: 'Roofing', auto_distribute: true });
  await command('rotation', 'add_level', { niche_id: 'roofing', level_id: 'roofing-gold', name: 'Gold', order_position: 1, max_recipients: 1, price_per_lead_cents: 2500 });
  await command('billing', 'register_provider', { provider_id: 'acme', name: 'Acme Roofing', email: 'leads@acme.test' });
  await command('billing', 'top_up', { provider_id: 'acme', amount_cents: 100_000, reference: 'seed' });
  await command('fairness', 'create_subscription', {
    provider_id: 'acme',
    niche_id: 'roofing',
    level_id: 'roofing-gold',
    service_area: { states: ['TX'], postal_codes: [] },
  });
  await Promise.all([fairness.caughtUp(), billing.caughtUp(), notification.caughtUp()]);
  // Let the relay publish the seeding's events and their consumers settle: only the lead's spans from here.
  await waitFor(async () => {
    for (const stream of [subjects.streams.leadIntake, subjects.streams.events]) {
      for await (const info of jsm.consumers.list(stream)) if (info.num_pending + info.num_ack_pending > 0) return false;
    }
    const head = (await db.pool.query<{ n: string }>('select max(global_position)::text as n from eventstore.events')).rows[0]!.n;
    return relay.status().checkpoint.globalPosition.toString() === head;
  }, { what: 'the seeding to settle' });
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  if (jsm) for (const name of Object.values(subjects.streams)) await jsm.streams.delete(name).catch(() => undefined);
  if (nc) await drainAndClose(nc);
  await db?.drop();
  await telemetry?.shutdown();
});

describe('tracing across the services', () => {
  it('gives one lead one connected trace, from lead.approved to the SMTP send of its email', async () => {
    exporter.reset();
    const leadId = `lead-${randomUUID().slice(0, 8)}`;
    const lead = {
      schema_version: 1,
      lead_id: leadId,
      niche_id: 'roofing',
      approved_at: new Date().toISOString(),
      consumer: { name: 'Ada Lovelace', email: 'ada@example.com' },
      location: { postal_code: '73301', state: 'TX', city: 'Austin' },
      details: {},
    };
    const root = await trace.getTracer('upstream').startActiveSpan('upstream lead.approved', { kind: SpanKind.PRODUCER }, async (span) => {
      await publishDurable(js, subjects.leadApproved, lead, { msgID: `approved-${leadId}` });
      span.end();
      return span;
    });
    const traceId = root.spanContext().traceId;
    const rootId = root.spanContext().spanId;

    // The provider's email reaches the SMTP peer (the notification's catcher).
    await waitFor(
      async () => (await db.pool.query(`select 1 from notification.caught_mail where 'leads@acme.test' = any(envelope_to) and raw like '%' || $1 || '%'`, [leadId])).rowCount === 1,
      { what: 'the email of the lead' },
    );

    const smtpSpan = (spans: readonly ReadableSpan[]) => spans.find((s) => s.name === 'smtp send' && traceOf(s) === traceId);
    // Spans end after the work they wrap (the notification handler after the SMTP send); wait
    // until the trace holds the send and every span in it has its parent there too.
    const spans = await waitFor(
      () => {
        const all = exporter.getFinishedSpans();
        const inTrace = all.filter((s) => traceOf(s) === traceId);
        const ids = new Set(inTrace.map(idOf));
        const notifying = inTrace.find((s) => s.name === `process ${subjects.eventSubject('lead', 'LeadAssigned')}` && String(group(s)).startsWith('notification'));
        const dangling = inTrace.filter((s) => idOf(s) !== rootId && !ids.has(parentOf(s) ?? ''));
        return smtpSpan(all) && notifying && dangling.length === 0 ? all : undefined;
      },
      { what: 'the trace to be complete and connected' },
    );
    const inTrace = spans.filter((s) => traceOf(s) === traceId);
    const byId = new Map(inTrace.map((s) => [idOf(s), s]));
    const rootSpan = byId.get(rootId)!;
    expect(rootSpan.name).toBe('upstream lead.approved');
    const find = (name: string, consumerGroup?: string) => {
      const found = inTrace.filter((s) => s.name === name && (consumerGroup === undefined || group(s) === consumerGroup));
      expect(found.length, `a span "${name}"${consumerGroup ? ` of ${consumerGroup}` : ''} in the lead's trace`).toBeGreaterThan(0);
      return found[0]!;
    };
    const ancestors = (s: ReadableSpan): string[] => {
      const chain: string[] = [];
      for (let p = byId.get(parentOf(s) ?? ''); p; p = byId.get(parentOf(p) ?? '')) chain.push(p.name);
      return chain;
    };

    // Every service is in it, each a step of the one before.
    const intake = find(`process ${subjects.leadApproved}`, 'intake-lead-approved');
    expect(parentOf(intake)).toBe(rootId);
    expect(parentOf(find(`handle ${subjects.command('rotation', 'get_niche')}`))).toBe(idOf(intake));
    const relayRequested = find(`relay publish ${subjects.eventSubject('lead', 'DistributionRequested')}`);
    expect(parentOf(relayRequested), 'the relay publishes as a child of the span that appended the event').toBe(idOf(intake));
    const fairness = find(`process ${subjects.eventSubject('lead', 'DistributionRequested')}`, 'fairness-distribution');
    expect(parentOf(fairness)).toBe(idOf(relayRequested));
    // A lead alone is claimed and charged with the batch commands (two statements each at rotation and billing).
    expect(parentOf(find(`handle ${subjects.command('rotation', 'claim_start_levels')}`))).toBe(idOf(fairness));
    expect(parentOf(find(`handle ${subjects.command('billing', 'charge_many')}`))).toBe(idOf(fairness));
    const relayAssigned = find(`relay publish ${subjects.eventSubject('lead', 'LeadAssigned')}`);
    expect(parentOf(relayAssigned)).toBe(idOf(fairness));
    const notification = find(`process ${subjects.eventSubject('lead', 'LeadAssigned')}`, 'notification-lead-assigned');
    expect(parentOf(notification)).toBe(idOf(relayAssigned));
    const send = smtpSpan(inTrace)!;
    expect(ancestors(send)).toEqual([notification.name, relayAssigned.name, fairness.name, relayRequested.name, intake.name, rootSpan.name]);

    // PostgreSQL work of the handlers is in the trace too, under the handler that did it.
    const queries = inTrace.filter(isPg);
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.some((q) => ancestors(q).includes(intake.name))).toBe(true);
    expect(queries.some((q) => ancestors(q).includes(fairness.name))).toBe(true);

    // And nothing of the lead's flow escaped into another trace.
    const elsewhere = spans.filter((s) => traceOf(s) !== traceId && isFlow(s));
    expect(elsewhere.map((s) => s.name)).toEqual([]);
  });
});
