/**
 * One JetStream ack per page (relay.ts, publishPage): a page's events but the last go as
 * core publishes on the relay's connection, chained by Nats-Expected-Last-Msg-Id, the last
 * one acked and checked by sequence arithmetic; any doubt publishes the page again event
 * by event. Against real NATS (the shared server, a three-node cluster) and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { subjectsFor, type Subjects } from '@fairlead/contracts';
import { createPostgresEventStore, type EventStore, type PostgresEventStore } from '@fairlead/event-store';
import { declareStreams, drainAndClose, fairleadStreams, setTracePropagator, type TracePropagator } from '@fairlead/messaging';
import { createLogger } from '@fairlead/platform';
import { createTestDatabase, startPrivateNatsCluster, testNamespace, testNatsConnection, waitFor, type TestDatabase } from '@fairlead/testing';
import { startRelay, type RelayOptions, type RunningRelay } from './relay';
import { openRelayTestEnvironment, type RelayTestEnvironment } from './test-support';

const logger = createLogger({ service: 'relay-page-ack-test', level: (process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent' });

interface Stored {
  seq: number;
  msgId: string;
  subject: string;
  headers: MsgHdrs | undefined;
}

/** Every message of the events stream, in sequence order, with its headers. */
async function readStored(jsm: JetStreamManager, stream: string): Promise<Stored[]> {
  const { state } = await jsm.streams.info(stream);
  const out: Stored[] = [];
  if (state.messages === 0) return out;
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (m) out.push({ seq: m.seq, msgId: m.header.get('Nats-Msg-Id'), subject: m.subject, headers: m.header });
  }
  return out;
}

/** Appends one page: `size` events in one transaction, to one stream of its own. */
async function appendPage(store: EventStore, size: number, options: { trace?: boolean; ids?: string[] } = {}): Promise<string[]> {
  const ids = options.ids ?? Array.from({ length: size }, () => randomUUID());
  const stream = `page-${randomUUID()}`;
  await store.append(
    stream,
    ids.map((id, n) => ({
      id,
      type: 'ItemRecorded',
      data: { n },
      ...(options.trace ? { metadata: { trace: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` } } } : {}),
    })),
    'no_stream',
  );
  return ids;
}

/** A foreign message on the events stream (as a redrive's republish is): another msgID, not the relay's event. */
function foreignHeaders(msgId: string): MsgHdrs {
  const h = natsHeaders();
  h.set('Nats-Msg-Id', msgId);
  return h;
}

/** The relay's messages (not the foreign ones) each once, in the order they were appended. */
function expectEachOnceInOrder(stored: Stored[], ids: string[]): void {
  const ours = stored.filter((m) => ids.includes(m.msgId)).map((m) => m.msgId);
  expect(ours).toEqual(ids);
}

/**
 * The relay's connection with its sends counted: `requests`, JetStream publishes waiting
 * for their ack (js.publish; each also goes through `publish`, with a reply subject);
 * `plain()`, core publishes without a reply. `afterPlain` may send something right after
 * the nth core publish on the same connection (a foreign message, ordered with the relay's).
 */
function countSends(nc: NatsConnection) {
  const requests = vi.spyOn(nc, 'request');
  const original = nc.publish.bind(nc);
  const hooks: { afterPlain?: (index: number, publish: typeof original) => void } = {};
  let plain = 0;
  vi.spyOn(nc, 'publish').mockImplementation((subject, data, opts) => {
    original(subject, data, opts);
    if (opts?.reply) return;
    const index = plain++;
    hooks.afterPlain?.(index, original);
  });
  return { requests, plain: () => plain, hooks };
}

describe('relay: one ack per page', () => {
  let env: RelayTestEnvironment;
  let relayNc: NatsConnection;
  const relays: RunningRelay[] = [];

  beforeEach(async () => {
    env = await openRelayTestEnvironment('relay_page');
    relayNc = await testNatsConnection({ identity: 'admin', name: 'relay-page-relay' });
  });
  afterEach(async () => {
    for (const r of relays.splice(0)) await r.stop();
    vi.restoreAllMocks();
    await drainAndClose(relayNc);
    await env.close();
  });

  const start = async (options: Partial<RelayOptions> = {}) => {
    const relay = await startRelay({ store: env.store, pool: env.db.pool, js: jetstream(relayNc), subjects: env.subjects, logger, checkpointIntervalMs: 0, controlPollMs: 50, ...options });
    relays.push(relay);
    return relay;
  };
  /** Appends pages one at a time, each once the one before is published. */
  const appendPages = async (relay: RunningRelay, pages: number, size: number, options: { trace?: boolean; before?: (page: number) => Promise<void> } = {}) => {
    const ids: string[] = [];
    for (let p = 0; p < pages; p++) {
      await options.before?.(p);
      const published = relay.status().published;
      ids.push(...(await appendPage(env.store, size, options)));
      await waitFor(() => relay.status().published >= published + size, { what: `page ${p} published` });
    }
    return ids;
  };
  const stored = () => readStored(env.jsm, env.subjects.streams.events);

  it('publishes a page with one ack: the events but the last as core publishes, in order, with the headers of an acked publish and trace context', async () => {
    // A propagator of the test's own: every event's publish runs in its trace context and injects a header.
    const carriers: unknown[] = [];
    let active: string | undefined;
    const propagator: TracePropagator = {
      inject: (h) => h.set('Fairlead-Test-Trace', active ?? 'none'),
      withExtracted: (carrier, fn, span) => {
        carriers.push(carrier);
        active = span?.name;
        try {
          return fn();
        } finally {
          active = undefined;
        }
      },
    };
    const previous = setTracePropagator(propagator);
    try {
      const sends = countSends(relayNc);
      const relay = await start();
      const ids = await appendPages(relay, 10, 8, { trace: true });

      // The first page goes event by event (it learns the stream's last sequence), the nine others with one ack each.
      expect(relay.status()).toMatchObject({ published: 80, pagesWithOneAck: 9, pageFallbacks: 0 });
      expect(sends.requests).toHaveBeenCalledTimes(8 + 9);
      expect(sends.plain()).toBe(9 * 7);

      const messages = await stored();
      expect(messages.map((m) => m.msgId)).toEqual(ids);
      for (const m of messages) {
        expect(m.headers?.get('Nats-Expected-Stream')).toBe(env.subjects.streams.events);
        expect(m.headers?.get('Fairlead-Event-Type')).toBe('ItemRecorded');
        expect(m.headers?.get('Fairlead-Test-Trace')).toBe(`relay publish ${m.subject}`);
      }
      expect(carriers).toHaveLength(80);
      expect(carriers.every((c) => (c as Record<string, string>).traceparent?.startsWith('00-aaaa'))).toBe(true);
    } finally {
      setTracePropagator(previous);
    }
  });

  it('a foreign message stored between two events of a page breaks the chain: the page goes again event by event, every event once, in order', async () => {
    const sends = countSends(relayNc);
    const relay = await start();
    const foreignSubject = env.subjects.eventSubject('foreign', 'Redriven');
    const ids = await appendPages(relay, 6, 8, {
      before: async (page) => {
        // In page 3, right after its first event, a foreign message on the same connection (so in between, for certain).
        sends.hooks.afterPlain =
          page === 3
            ? (_index, publish) => {
                sends.hooks.afterPlain = undefined;
                publish(foreignSubject, new TextEncoder().encode('{}'), { headers: foreignHeaders('fairlead-redrive-test') });
              }
            : undefined;
      },
    });

    expect(relay.status()).toMatchObject({ published: 48, pageFallbacks: 1 });
    const messages = await stored();
    expectEachOnceInOrder(messages, ids);
    expect(messages).toHaveLength(49);
    // The foreign message sits after page 3's first event, the rest of the page after it.
    const foreignAt = messages.findIndex((m) => m.msgId === 'fairlead-redrive-test');
    expect(messages[foreignAt - 1]!.msgId).toBe(ids[3 * 8]);
    expect(messages[foreignAt + 1]!.msgId).toBe(ids[3 * 8 + 1]);
    // The pages after it go with one ack again (after one event by event, which learns the sequence).
    expect(relay.status().pagesWithOneAck).toBe(3 + 1);
  });

  it('a foreign message stored between two pages fails the sequence arithmetic: that page goes again event by event', async () => {
    const relay = await start();
    const js = jetstream(env.nc);
    const ids = await appendPages(relay, 5, 8, {
      before: async (page) => {
        if (page === 3) await js.publish(env.subjects.eventSubject('foreign', 'Redriven'), '{}', { msgID: 'fairlead-redrive-between' });
      },
    });
    expect(relay.status()).toMatchObject({ published: 40, pageFallbacks: 1 });
    const messages = await stored();
    expectEachOnceInOrder(messages, ids);
    expect(messages).toHaveLength(41);
  });

  describe('an event the stream refuses (its max_msg_size, so a core publish of it is dropped without a word)', () => {
    beforeEach(async () => {
      const info = await env.jsm.streams.info(env.subjects.streams.events);
      await env.jsm.streams.update(env.subjects.streams.events, { ...info.config, max_msg_size: 4096 });
    });

    /** After a first page (event by event), a page whose second event is too large for the stream. */
    const pageWithRefused = async (relay: RunningRelay) => {
      await appendPages(relay, 1, 4);
      const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      const data = [{ n: 0 }, { pad: 'x'.repeat(8 * 1024) }, { n: 2 }, { n: 3 }];
      await env.store.append('refused-stream', ids.map((id, n) => ({ id, type: 'ItemRecorded', data: data[n] })), 'no_stream');
      return ids;
    };

    it('stalls the relay at that event, the events before it published', async () => {
      const relay = await start();
      const ids = await pageWithRefused(relay);
      await waitFor(() => relay.reader().stalled?.event_id === ids[1], { what: 'the stall' });
      expect(relay.reader().stalled!.error).toMatch(/failed after 1 attempt/);
      const stalledAt = (await env.store.readStream('refused-stream')).find((e) => e.id === ids[0])!;
      expect(relay.reader().position.global_position).toBe(stalledAt.globalPosition.toString());
      const messages = await stored();
      expect(messages.filter((m) => m.msgId === ids[0])).toHaveLength(1);
      expect(messages.some((m) => m.msgId === ids[1])).toBe(false);
      expect(relay.status().pageFallbacks).toBe(1);
    });

    it('stalls there too when a foreign message makes up for it in the count (which the arithmetic alone would take for the page)', async () => {
      const sends = countSends(relayNc);
      const relay = await start();
      // Right after the refused event's core publish (the page's second), a foreign message:
      // the stream gets 4 messages for the page's 4, so the ack's sequence adds up.
      sends.hooks.afterPlain = (index, publish) => {
        if (index === 1) publish(env.subjects.eventSubject('foreign', 'Redriven'), new TextEncoder().encode('{}'), { headers: foreignHeaders('fairlead-redrive-count') });
      };
      const ids = await pageWithRefused(relay);
      await waitFor(() => relay.reader().stalled?.event_id === ids[1], { what: 'the stall' });
      const messages = await stored();
      expect(messages.some((m) => m.msgId === 'fairlead-redrive-count')).toBe(true);
      expect(messages.filter((m) => m.msgId === ids[0])).toHaveLength(1);
      expect(messages.some((m) => m.msgId === ids[1])).toBe(false);
    });
  });

  it('a relay restarted over events already in the stream (a crash before its checkpoint) lands nothing twice, also with one in the middle of a page', async () => {
    const first = await start();
    const earlier = await appendPages(first, 5, 8);
    expect(first.status().pagesWithOneAck).toBe(4);
    await first.stop();
    relays.splice(0);
    // As after a crash before any checkpoint write: the next relay starts over.
    await env.db.pool.query('delete from relay.projection_checkpoints where name = $1', ['relay']);

    const second = await start();
    await waitFor(() => second.status().published === 40, { what: 'the republish' });
    // Now a page one event of which is in the stream already (the same msgID: a duplicate on the one-ack path).
    const later = await appendPages(second, 2, 8);
    const ids = Array.from({ length: 8 }, () => randomUUID());
    await jetstream(env.nc).publish(env.subjects.eventSubject('page', 'ItemRecorded'), '{}', { msgID: ids[4]! });
    const published = second.status().published;
    await appendPage(env.store, 8, { ids });
    await waitFor(() => second.status().published === published + 8, { what: 'the page with a duplicate' });
    const last = await appendPages(second, 2, 8);

    const messages = await stored();
    const all = [...earlier, ...later, ...ids, ...last];
    expect(messages).toHaveLength(all.length);
    expect(new Set(messages.map((m) => m.msgId)).size).toBe(all.length);
    expectEachOnceInOrder(messages, all.filter((id) => id !== ids[4]));
    expect(second.status().pageFallbacks).toBe(1);
    expect(second.status().pagesWithOneAck).toBeGreaterThanOrEqual(2);
  });
});

describe('relay: one ack per page on a three-node NATS cluster (streams with 3 replicas)', () => {
  it('publishes pages with one ack each, and a broken chain still goes again event by event, every event once, in order', async () => {
    const cluster = await startPrivateNatsCluster(3);
    let db: TestDatabase | undefined;
    let store: PostgresEventStore | undefined;
    let pool: pg.Pool | undefined;
    const connections: NatsConnection[] = [];
    let relay: RunningRelay | undefined;
    try {
      db = await createTestDatabase('relay_page_cluster');
      db.pool.on('error', () => undefined);
      pool = db.pool;
      store = createPostgresEventStore({ pool });
      await store.migrate();
      const subjects: Subjects = subjectsFor(testNamespace('relay_page_cluster'));
      const admin = await testNatsConnection({ identity: 'admin', servers: cluster.url });
      connections.push(admin);
      const jsm = await jetstreamManager(admin);
      await declareStreams(jsm, fairleadStreams(subjects, { replicas: 3 }));
      // The relay on a node that does not lead the events stream: its messages cross a route.
      const leader = (await jsm.streams.info(subjects.streams.events)).cluster!.leader!;
      const node = cluster.nodes.find((n) => n.name !== leader)!;
      const nc = await testNatsConnection({ identity: 'admin', servers: node.server.url, name: 'relay-cluster' });
      connections.push(nc);
      const sends = countSends(nc);
      relay = await startRelay({ store, pool, js: jetstream(nc), subjects, logger, checkpointIntervalMs: 0 });

      const ids: string[] = [];
      for (let p = 0; p < 8; p++) {
        sends.hooks.afterPlain =
          p === 5
            ? (_index, publish) => {
                sends.hooks.afterPlain = undefined;
                publish(subjects.eventSubject('foreign', 'Redriven'), new TextEncoder().encode('{}'), { headers: foreignHeaders('fairlead-redrive-cluster') });
              }
            : undefined;
        ids.push(...(await appendPage(store, 8)));
        const target = ids.length;
        await waitFor(() => relay!.status().published >= target, { what: `page ${p}`, timeoutMs: 30_000 });
      }
      // Pages 1-4, 6 and 7 with one ack; page 5 fell back (its event-by-event publish learnt the sequence again).
      expect(relay.status()).toMatchObject({ published: 64, pagesWithOneAck: 6, pageFallbacks: 1 });
      const messages = await readStored(jsm, subjects.streams.events);
      expect(messages).toHaveLength(65);
      expectEachOnceInOrder(messages, ids);
    } finally {
      await relay?.stop();
      for (const c of connections) await drainAndClose(c).catch(() => undefined);
      await store?.close();
      await db?.drop();
      await cluster.dispose();
    }
  }, 120_000);
});
