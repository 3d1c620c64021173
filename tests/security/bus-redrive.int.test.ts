/**
 * The redrive of a dead-lettered EVENT under the bus permission table: every part runs as
 * its own NATS identity (the operator API as `operator-api`, the relay as `relay`, the
 * consumer as `notification`), so nats-server enforces what production enforces. Only the
 * relay may publish on `fairlead.events.>`; the operator API asks it (`relay.republish`) to
 * publish the STORED event again.
 *
 * Use: an event the consumer dead-letters is redriven over HTTP and the consumer processes it.
 * Abuse: a dead letter naming an event that is not stored (a forged one) is refused 404 and
 * stays; a forged payload naming a real event republishes the stored event, not the forgery;
 * no identity but the operator API may send the republish command.
 */
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { PermissionViolationError, type NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUS_IDENTITIES, RELAY_HEADERS, RelayedEvent, sendersOf, type BusIdentity } from '@fairlead/contracts';
import { DeadLetterHeaders, drainAndClose, PermanentError, publishDurable, request, runConsumer, type ConsumerRunner } from '@fairlead/messaging';
import { mintToken, startOperatorApi, type OperatorApi } from '@fairlead/operator-api';
import { REDRIVE_HEADERS, serveRelayCommands, startRelay, type RunningRelay } from '@fairlead/relay';
import { openTestEnvironment, type TestEnvironment } from '@fairlead/service-testing';
import { testNatsConnection, waitFor } from '@fairlead/testing';

const SECRET = 'bus-redrive-test-secret-0123456789abcdef';
const ISSUER = 'fairlead-test';
const AUDIENCE = 'fairlead-redrive-test';

let env: TestEnvironment;
let api: OperatorApi;
let relay: RunningRelay;
let stopRelayCommands: (() => Promise<void>) | undefined;
let consumer: ConsumerRunner;
const connections: NatsConnection[] = [];
/** Event ids the consumer processed (after failing each one's first delivery). */
const processed: { event_id: string; data: unknown; redrivenBy: string | undefined }[] = [];
const failedOnce = new Set<string>();
let adminJs: JetStreamClient;

const connect = async (identity: BusIdentity) => {
  const nc = await testNatsConnection({ identity, name: `redrive-${identity}` });
  connections.push(nc);
  return nc;
};
const subject = () => env.subjects.eventSubject('lead', 'LeadAssigned');

/** Subjects the server refused this connection to publish on. */
function publishViolations(nc: NatsConnection): Set<string> {
  const seen = new Set<string>();
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'error' && status.error instanceof PermissionViolationError && status.error.operation === 'publish') seen.add(status.error.subject);
    }
  })();
  return seen;
}

async function call(method: 'GET' | 'POST', url: string) {
  const token = await mintToken({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE, sub: 'olga', roles: ['operator'], mfa: true, ttlSec: 600 });
  const res = await api.app.inject({ method, url, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, json: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {} };
}
const deadLetters = async () => (await call('GET', '/api/v1/admin/dead-letters?limit=100')).json.items as { seq: number; event_type: string | null; lead_id: string | null }[];

beforeAll(async () => {
  env = await openTestEnvironment('bus_redrive', { declareStreams: true });
  adminJs = jetstream(env.nc);

  const relayNc = await connect('relay');
  const relayJs = jetstream(relayNc);
  relay = await startRelay({ store: env.store, pool: env.db.pool, js: relayJs, subjects: env.subjects, logger: env.logger, checkpointIntervalMs: 0 });
  const relayCommands = serveRelayCommands({ nc: relayNc, js: relayJs, store: env.store, subjects: env.subjects, logger: env.logger });
  stopRelayCommands = () => relayCommands.stop();

  const consumerNc = await connect('notification');
  consumer = await runConsumer({
    js: jetstream(consumerNc),
    jsm: await jetstreamManager(consumerNc),
    stream: env.subjects.streams.events,
    durable: 'notification-lead-assigned',
    filterSubject: subject(),
    schema: RelayedEvent,
    deadLetter: { subjectFor: (s) => env.subjects.deadLetterSubject(s) },
    backoffMs: [],
    logger: env.logger,
    handler: async (event, ctx) => {
      // Fails each event's first delivery for good (a dead letter), processes any later one.
      if (!failedOnce.has(event.event_id)) {
        failedOnce.add(event.event_id);
        throw new PermanentError('the mail server refused it', { code: 'TEST_PERMANENT' });
      }
      processed.push({ event_id: event.event_id, data: event.data, redrivenBy: ctx.headers?.get(REDRIVE_HEADERS.redrivenBy) });
    },
  });

  api = await startOperatorApi({
    pool: env.db.pool,
    store: env.store,
    nc: await connect('operator-api'),
    subjects: env.subjects,
    logger: env.logger,
    auth: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE },
    config: { rateLimitMax: 100_000, commandTimeoutMs: 5_000 },
  });
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await consumer?.stop();
  await relay?.stop();
  await stopRelayCommands?.();
  for (const nc of connections) await drainAndClose(nc);
  await env?.close();
});

const assignment = (leadId: string, providerId = 'acme') => ({
  assignment_id: `a-${leadId}`,
  lead_id: leadId,
  niche_id: 'roofing',
  provider_id: providerId,
  subscription_id: 's-1',
  level_id: 'gold',
  level_name: 'Gold',
  order_position: 1,
  price_cents: 100,
  balance_after_cents: 900,
  assigned_at: '2026-01-01T00:00:00.000Z',
});

async function storeAndDeadLetter(leadId: string): Promise<{ eventId: string; seq: number }> {
  const eventId = randomUUID();
  await env.store.append(`lead-${leadId}`, [{ id: eventId, type: 'LeadAssigned', data: assignment(leadId) }], 'any');
  const letter = await waitFor(async () => (await deadLetters()).find((d) => d.lead_id === leadId), { what: `the dead letter of ${leadId}`, timeoutMs: 20_000 });
  return { eventId, seq: letter.seq };
}

describe('redrive of a dead-lettered event through the relay', () => {
  it('the operator API (its own identity) redrives it: the relay republishes the stored event, the consumer processes it, the dead letter leaves', async () => {
    const { eventId, seq } = await storeAndDeadLetter('lead-redrive-1');
    expect(processed).toEqual([]);

    const res = await call('POST', `/api/v1/admin/dead-letters/${seq}/redrive`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ seq, subject: subject(), stream: env.subjects.streams.events, lead_id: 'lead-redrive-1' });
    expect(res.json.msg_id).not.toBe(eventId);

    await waitFor(async () => processed.find((p) => p.event_id === eventId), { what: 'the consumer processing the redriven event', timeoutMs: 20_000 });
    expect(processed).toEqual([{ event_id: eventId, data: assignment('lead-redrive-1'), redrivenBy: 'olga' }]);
    expect((await call('GET', `/api/v1/admin/dead-letters/${seq}`)).status).toBe(404);
  });

  it('refuses (404) a dead letter naming an event that is not stored, and keeps it', async () => {
    const forged = { event_id: randomUUID(), stream: 'lead-forged', type: 'LeadAssigned', stream_version: 1, global_position: '1', transaction_id: '1', created_at: new Date().toISOString(), data: { lead_id: 'lead-forged' }, metadata: {} };
    await publishDurable(adminJs, env.subjects.deadLetterSubject(subject()), forged, { msgID: randomUUID(), headers: { [DeadLetterHeaders.OriginalSubject]: subject(), [DeadLetterHeaders.Reason]: 'permanent' } });
    const letter = await waitFor(async () => (await deadLetters()).find((d) => d.lead_id === 'lead-forged'), { what: 'the forged dead letter' });

    const res = await call('POST', `/api/v1/admin/dead-letters/${letter.seq}/redrive`);
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ code: 'EVENT_NOT_FOUND' });
    expect((await call('GET', `/api/v1/admin/dead-letters/${letter.seq}`)).status).toBe(200);
  });

  it('a forged payload naming a real event republishes what is stored, never the forgery', async () => {
    const { eventId, seq: realSeq } = await storeAndDeadLetter('lead-redrive-2');
    const stored = (await env.store.readStream('lead-lead-redrive-2'))[0]!;
    const forged = { event_id: eventId, stream: 'lead-lead-redrive-2', type: 'LeadAssigned', stream_version: stored.streamVersion, global_position: '1', transaction_id: '1', created_at: new Date().toISOString(), data: assignment('lead-redrive-2', 'mallory'), metadata: {} };
    await publishDurable(adminJs, env.subjects.deadLetterSubject(subject()), forged, { msgID: randomUUID(), headers: { [DeadLetterHeaders.OriginalSubject]: subject(), [DeadLetterHeaders.Reason]: 'permanent' } });
    const letter = await waitFor(async () => (await deadLetters()).find((d) => d.lead_id === 'lead-redrive-2' && d.seq !== realSeq), { what: 'the forged dead letter' });

    const res = await call('POST', `/api/v1/admin/dead-letters/${letter.seq}/redrive`);
    expect(res.status).toBe(200);
    const republished = await env.jsm.streams.getMessage(env.subjects.streams.events, { seq: res.json.stream_seq as number });
    expect(republished!.json<{ data: unknown }>().data).toEqual(assignment('lead-redrive-2'));
    expect(republished!.header.get(RELAY_HEADERS.stream)).toBe('lead-lead-redrive-2');
    await waitFor(async () => processed.find((p) => p.event_id === eventId), { what: 'the consumer processing the stored event' });
    expect(processed.filter((p) => p.event_id === eventId).map((p) => p.data)).toEqual([assignment('lead-redrive-2')]);
  });

  it('no identity but the operator API may send the republish command: the server refuses it', async () => {
    const [event] = await env.store.readStream('lead-lead-redrive-1');
    const body = { event_id: event!.id, stream: event!.stream, stream_version: event!.streamVersion, redrive_id: `abuse-${randomUUID()}`, actor: { actor_id: 'mallory', actor_role: 'admin' } };
    // The last LeadAssigned on the bus before (the relay publishes other events meanwhile: the redrives' own records).
    const lastAssigned = async () => (await env.jsm.streams.getMessage(env.subjects.streams.events, { last_by_subj: subject() }))?.seq;
    const before = await lastAssigned();
    expect(sendersOf('relay', 'republish')).toEqual(['operator-api']);
    for (const identity of BUS_IDENTITIES.filter((id) => id !== 'admin' && id !== 'operator-api')) {
      const nc = await connect(identity);
      const refused = publishViolations(nc);
      const error = await request(nc, env.subjects.command('relay', 'republish'), body, { timeoutMs: 5_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const chain: unknown[] = [];
      for (let e: unknown = error; e instanceof Error; e = e.cause) chain.push(e);
      expect(chain.some((e) => e instanceof PermissionViolationError || /permissions violation/i.test((e as Error).message)), `${identity}: expected a permission violation, got ${String(error)}`).toBe(true);
      await waitFor(() => refused.has(env.subjects.command('relay', 'republish')) || undefined, { what: `the server refusing ${identity}'s republish` });
    }
    expect(await lastAssigned()).toBe(before);
  });
});
