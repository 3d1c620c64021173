import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayedEvent, type Subjects } from '@fairlead/contracts';
import type { PostgresEventStore } from '@fairlead/event-store';
import { createLogger } from '@fairlead/platform';
import { waitFor, type TestDatabase } from '@fairlead/testing';
import { acquireLeadership } from './leadership';
import { startRelay } from './relay';
import { appendMany, readAllMessages, openRelayTestEnvironment, streamMessageCount, type RelayTestEnvironment } from './test-support';

const logger = createLogger({ service: 'relay-test', level: 'warn' });

describe('relay (in process)', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let subjects: Subjects;
  let env: RelayTestEnvironment;

  beforeAll(async () => {
    env = await openRelayTestEnvironment('relay');
    ({ db, store, nc, jsm, subjects } = env);
  });

  afterAll(async () => {
    await env.close();
  });

  it('publishes every event once, in global order, and resumes from its checkpoint without repeats', async () => {
    const firstIds = await appendMany(store, { streams: 4, perStream: 250, category: 'order' });
    const relay = await startRelay({ store, pool: db.pool, js: jetstream(nc), subjects, logger, batchSize: 100 });
    await waitFor(async () => (await streamMessageCount(jsm, subjects.streams.events)) === firstIds.length, { what: 'first 1000 events in JetStream' });
    await relay.stop();

    // Events appended while no relay runs are published by the next one, from the checkpoint.
    const moreIds = await appendMany(store, { streams: 2, perStream: 100, category: 'order' });
    const second = await startRelay({ store, pool: db.pool, js: jetstream(nc), subjects, logger, batchSize: 100 });
    const total = firstIds.length + moreIds.length;
    await waitFor(async () => (await streamMessageCount(jsm, subjects.streams.events)) === total, { what: 'all events in JetStream' });
    await second.stop();
    expect(second.status().published).toBe(moreIds.length);

    const messages = await readAllMessages(nc, subjects.streams.events);
    expect(messages).toHaveLength(total);
    expect(new Set(messages.map((m) => m.msgId))).toEqual(new Set([...firstIds, ...moreIds]));

    // The stream holds them in the store's global order.
    const stored = [];
    for (let from = { transactionId: 0n, globalPosition: 0n }; ; ) {
      const batch = await store.readAll(from, 1000);
      stored.push(...batch.events);
      if (batch.events.length === 0) break;
      from = batch.checkpoint;
    }
    expect(messages.map((m) => m.msgId)).toEqual(stored.map((e) => e.id));

    const first = RelayedEvent.parse(messages[0]!.body);
    expect(messages[0]!.subject).toBe(subjects.eventSubject('order', 'ItemRecorded'));
    expect(first).toMatchObject({ event_id: stored[0]!.id, stream: stored[0]!.stream, type: 'ItemRecorded', stream_version: stored[0]!.streamVersion });
    expect(first.global_position).toBe(stored[0]!.globalPosition.toString());
  });

  it('lets only one relay lead; a second waits and takes over when the first lets go', async () => {
    const key = BigInt(Math.floor(Math.random() * 1e12));
    const first = acquireLeadership(db.url, key, { pollMs: 50 });
    await first.acquired;
    const second = acquireLeadership(db.url, key, { pollMs: 50 });
    let secondLeads = false;
    void second.acquired.then(() => (secondLeads = true));
    // Several poll rounds pass without the second instance getting the lock.
    await new Promise((r) => setTimeout(r, 300));
    expect(first.isLeader()).toBe(true);
    expect(secondLeads).toBe(false);
    expect(second.isLeader()).toBe(false);

    await first.release();
    await second.acquired;
    expect(second.isLeader()).toBe(true);
    await second.release();
  });
});
