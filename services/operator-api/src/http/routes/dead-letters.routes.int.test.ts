/**
 * The dead-letter queue through the API, with real dead letters: a real consumer
 * (@fairlead/messaging's runner) fails them onto the FAIRLEAD_DLQ stream of this file's
 * namespace; the API lists, inspects, redrives and discards them. A dead-lettered event is
 * redriven by the relay's command server (here on the test's admin connection; the identities
 * of production are exercised by tests/security/bus-redrive.int.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_HEADERS, RelayedEvent, streams } from '@fairlead/contracts';
import { PermanentError, publishDurable, runConsumer, type ConsumerRunner, type RequestServer } from '@fairlead/messaging';
import { serveRelayCommands, toOutgoingMessage } from '@fairlead/relay';
import { waitFor } from '@fairlead/testing';
import { pino } from 'pino';
import { approved, event, requested } from '../../testing/events';
import { startApiHarness, type ApiHarness } from '../../testing/api-harness';

let h: ApiHarness;
let jsm: JetStreamManager;
let consumer: ConsumerRunner;
let relayCommands: RequestServer;
const subjectOf = () => h.subjects.eventSubject('lead', 'DistributionRequested');
/** The stored DistributionRequested, as the relay published it. */
let eventId: string;
let relayed: unknown;

interface Page {
  items: { seq: number; reason: string; lead_id: string | null; event_type: string | null; original_subject: string; attempts: number }[];
  next_after: number | null;
  total: number;
}

beforeAll(async () => {
  h = await startApiHarness('op_dlq');
  jsm = await jetstreamManager(h.nc);
  const js = jetstream(h.nc);
  await h.appendAndProject(streams.lead('lead-dl'), [
    approved('lead-dl', 'roofing'),
    requested('lead-dl', 'roofing', 'r-1'),
    event('DistributionFailed', { lead_id: 'lead-dl', niche_id: 'roofing', request_id: 'r-1', attempt: 1, error: 'FAIRNESS_LEAD_NOT_APPROVED', final: true, failed_at: new Date().toISOString() }),
  ]);
  relayCommands = serveRelayCommands({ nc: h.nc, js, store: h.store, subjects: h.subjects });
  const stored = (await h.store.readStream(streams.lead('lead-dl'))).find((e) => e.type === 'DistributionRequested')!;
  const message = toOutgoingMessage(h.subjects, stored);
  eventId = stored.id;
  relayed = message.payload;
  await publishDurable(js, subjectOf(), relayed, { msgID: eventId, headers: message.headers });
  await js.publish(subjectOf(), new TextEncoder().encode('this is not json'), { msgID: randomUUID() });
  consumer = await runConsumer({
    js,
    jsm,
    stream: h.subjects.streams.events,
    durable: 'dlq-test',
    filterSubject: subjectOf(),
    schema: RelayedEvent,
    deadLetter: { subjectFor: (s) => h.subjects.deadLetterSubject(s) },
    backoffMs: [],
    logger: pino({ level: 'silent' }),
    handler: async () => {
      throw new PermanentError('the lead cannot be distributed', { code: 'TEST_PERMANENT' });
    },
  });
  await waitFor(async () => (await jsm.streams.info(h.subjects.streams.deadLetters)).state.messages === 2 || undefined, { what: 'two dead letters' });
  await consumer.stop();
});
afterAll(async () => {
  await consumer?.stop();
  await relayCommands?.stop();
  await h.close();
});

const list = async (query = '') => (await h.call('GET', `/api/v1/admin/dead-letters${query}`, { roles: ['viewer'] })).json<Page>();

describe('dead-letter queue', () => {
  it('lists dead letters oldest first, with why they failed and what they are about, page by page', async () => {
    const page = await list();
    expect(page.total).toBe(2);
    expect(page.items.map((d) => [d.reason, d.lead_id, d.event_type, d.original_subject])).toEqual([
      ['permanent', 'lead-dl', 'DistributionRequested', subjectOf()],
      ['malformed', null, null, subjectOf()],
    ]);
    const first = await list('?limit=1');
    expect(first.items).toHaveLength(1);
    const second = await list(`?limit=1&after=${first.next_after}`);
    expect(second.items.map((d) => d.seq)).toEqual([page.items[1]!.seq]);
    expect(second.next_after).toBeNull();
  });

  it('shows one dead letter with its headers and payload', async () => {
    const [first] = (await list()).items;
    const res = await h.call('GET', `/api/v1/admin/dead-letters/${first!.seq}`, { roles: ['viewer'] });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ payload: unknown; headers: Record<string, string[]>; error: string }>();
    expect(body.payload).toEqual(relayed);
    expect(body.headers[RELAY_HEADERS.eventType]).toEqual(['DistributionRequested']);
    expect(body.error).toContain('the lead cannot be distributed');
  });

  it('redrives: the relay republishes the stored event to the original subject with a new msgID, the dead letter leaves, the lead shows queued, the audit says who', async () => {
    expect((await h.call('GET', '/api/v1/admin/leads/lead-dl/distribution-status', { roles: ['viewer'] })).json()).toMatchObject({ queue_state: 'dead_lettered' });
    const [letter] = (await list()).items;
    const res = await h.call('POST', `/api/v1/admin/dead-letters/${letter!.seq}/redrive`, { roles: ['operator'], sub: 'olga' });
    expect(res.statusCode).toBe(200);
    const result = res.json<{ subject: string; stream: string; stream_seq: number; msg_id: string }>();
    expect(result).toMatchObject({ subject: subjectOf(), stream: h.subjects.streams.events, lead_id: 'lead-dl' });
    expect(result.msg_id).not.toBe(eventId);

    const republished = await jsm.streams.getMessage(h.subjects.streams.events, { seq: result.stream_seq });
    expect(republished!.subject).toBe(subjectOf());
    expect(republished!.json()).toEqual(relayed);
    expect(republished!.header.get('Nats-Msg-Id')).toBe(result.msg_id);
    expect(republished!.header.get(RELAY_HEADERS.eventType)).toBe('DistributionRequested');
    expect(republished!.header.get('Fairlead-Dlq-Reason')).toBe('');
    expect(republished!.header.get('Fairlead-Redriven-By')).toBe('olga');

    expect((await h.call('GET', `/api/v1/admin/dead-letters/${letter!.seq}`, { roles: ['viewer'] })).statusCode).toBe(404);
    expect((await h.call('POST', `/api/v1/admin/dead-letters/${letter!.seq}/redrive`, { roles: ['operator'] })).statusCode).toBe(404);
    expect((await h.call('GET', '/api/v1/admin/leads/lead-dl/distribution-status', { roles: ['viewer'] })).json()).toMatchObject({ queue_state: 'queued', last_attempt_status: 'queued' });
    const audit = (await h.call('GET', '/api/v1/admin/audit-log?action=dlq.redriven', { roles: ['viewer'] })).json<{ items: unknown[] }>();
    expect(audit.items).toEqual([expect.objectContaining({ actor: { actor_id: 'olga', actor_role: 'operator' }, source: 'event', subject: `dlq:${letter!.seq}`, lead_id: 'lead-dl' })]);
    // The redrive is a fact in the store: a rebuild of the read models keeps the queued mark and the audit entry.
    const recorded = await h.store.readStream(streams.deadLetter(letter!.seq));
    expect(recorded.map((e) => [e.type, (e.data as { lead_id: string }).lead_id])).toEqual([['DeadLetterRedriven', 'lead-dl']]);
  });

  it('refuses to redrive an event dead letter whose payload names no stored event (409), and keeps it', async () => {
    const [letter] = (await list()).items;
    expect(letter!.reason).toBe('malformed');
    const res = await h.call('POST', `/api/v1/admin/dead-letters/${letter!.seq}/redrive`, { roles: ['operator'] });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'DEAD_LETTER_NOT_REDRIVABLE' });
    expect((await list()).items.map((d) => d.seq)).toEqual([letter!.seq]);
  });

  it('discards (admins only), recorded in the audit log', async () => {
    const [letter] = (await list()).items;
    expect(letter!.reason).toBe('malformed');
    expect((await h.call('DELETE', `/api/v1/admin/dead-letters/${letter!.seq}`, { roles: ['operator'] })).statusCode).toBe(403);
    const res = await h.call('DELETE', `/api/v1/admin/dead-letters/${letter!.seq}`, { roles: ['admin'], sub: 'alice' });
    expect(res.statusCode).toBe(204);
    expect(await list()).toEqual({ items: [], next_after: null, total: 0 });
    const audit = (await h.call('GET', '/api/v1/admin/audit-log?actor_id=alice&action=dlq.discarded', { roles: ['viewer'] })).json<{ items: { details: Record<string, unknown> }[] }>();
    expect(audit.items[0]!.details).toMatchObject({ reason: 'malformed' });
  });
});
