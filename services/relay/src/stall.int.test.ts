/**
 * The relay meets an event it cannot publish — larger than the bus's max_payload (stored
 * before the store's own limit, or after the bus's was lowered). Before, it failed, was
 * restarted forever, and no later event was ever relayed. Now it publishes everything
 * before the event, stops just before it and says so (reader(), still running), and goes
 * on after an operator parks it (it stays skipped after a restart) or retries it after a fix.
 */
import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectionControlStream, SYSTEM_ACTOR, type Subjects } from '@fairlead/contracts';
import { createPostgresEventStore, type PostgresEventStore, type StoredEvent } from '@fairlead/event-store';
import { createLogger } from '@fairlead/platform';
import { waitFor, type TestDatabase } from '@fairlead/testing';
import { startRelay, type RunningRelay } from './relay';
import { openRelayTestEnvironment, readAllMessages, type RelayTestEnvironment } from './test-support';

const logger = createLogger({ service: 'relay-stall-test', level: 'silent' });

describe('relay stalled on an event it cannot publish', () => {
  let env: RelayTestEnvironment;
  let db: TestDatabase;
  let nc: NatsConnection;
  let subjects: Subjects;
  /** A store that accepts events larger than the bus (as one did before the store's limit existed). */
  let lax: PostgresEventStore;
  const relays: RunningRelay[] = [];

  beforeAll(async () => {
    env = await openRelayTestEnvironment('relay_stall');
    ({ db, nc, subjects } = env);
    lax = createPostgresEventStore({ pool: db.pool, maxEventBytes: 4 * 1024 * 1024 });
  });
  afterAll(async () => {
    await Promise.all(relays.map((r) => r.stop()));
    await lax.close();
    await env.close();
  });

  const start = async (maxPayload: () => number | undefined = () => nc.info?.max_payload) => {
    const relay = await startRelay({ store: env.store, pool: db.pool, js: jetstream(nc), subjects, logger, maxPayloadBytes: maxPayload, controlPollMs: 50, checkpointIntervalMs: 0 });
    relays.push(relay);
    return relay;
  };
  const append = async (stream: string, data: unknown): Promise<StoredEvent> => {
    const id = randomUUID();
    await lax.append(stream, [{ id, type: 'Noted', data }], 'any');
    return (await lax.readStream(stream)).find((e) => e.id === id)!;
  };
  const published = async () => new Set((await readAllMessages(nc, subjects.streams.events)).map((m) => m.msgId));
  const control = (type: 'ProjectionEventParked' | 'ProjectionRetryRequested', event: StoredEvent) =>
    lax.append(
      projectionControlStream('relay'),
      [
        {
          id: randomUUID(),
          type,
          data:
            type === 'ProjectionEventParked'
              ? { projection: 'relay', event_id: event.id, event_type: event.type, stream: event.stream, global_position: event.globalPosition.toString(), error: 'too large', reason: 'oversized', actor: SYSTEM_ACTOR, at: new Date().toISOString() }
              : { projection: 'relay', event_id: event.id, actor: SYSTEM_ACTOR, at: new Date().toISOString() },
        },
      ],
      'any',
    );

  it('publishes what comes before, stalls just before it, and goes on after a park — also after a restart', async () => {
    const before = await append('note-a', { n: 1 });
    const huge = await append('note-a', { pad: 'x'.repeat(nc.info!.max_payload) });
    const after = await append('note-b', { n: 3 });
    const relay = await start();

    await waitFor(async () => relay.reader().stalled?.event_id === huge.id, { what: 'the stall' });
    expect(relay.reader()).toMatchObject({ name: 'relay', state: 'stalled', stalled: { global_position: huge.globalPosition.toString(), attempts: 1 } });
    expect(relay.reader().stalled!.error).toMatch(/max_payload/);
    expect(relay.reader().position.global_position).toBe(before.globalPosition.toString());
    const sent = await published();
    expect(sent.has(before.id)).toBe(true);
    expect(sent.has(huge.id) || sent.has(after.id)).toBe(false);
    // Still running: not failed, not exited.
    expect(await Promise.race([relay.done.then(() => 'ended', () => 'failed'), new Promise((r) => setTimeout(() => r('running'), 200))])).toBe('running');

    await control('ProjectionEventParked', huge);
    await waitFor(async () => (await published()).has(after.id), { what: 'the event after it' });
    expect(relay.reader()).toMatchObject({ state: 'running', stalled: null, parked: 1 });
    expect(relay.status().skippedParked).toBe(1);
    await relay.stop();

    // A restart keeps it skipped and relays what comes next.
    const next = await append('note-b', { n: 4 });
    const again = await start();
    await waitFor(async () => (await published()).has(next.id), { what: 'the next event after a restart' });
    expect(again.reader()).toMatchObject({ state: 'running', parked: 1 });
    expect((await published()).has(huge.id)).toBe(false);
    await again.stop();
  });

  it('retries the event after a fix (a larger max_payload) and publishes it, then everything after it', async () => {
    let limit = 16 * 1024;
    const big = await append('note-c', { pad: 'y'.repeat(20 * 1024) });
    const after = await append('note-c', { n: 2 });
    const relay = await start(() => limit);
    await waitFor(async () => relay.reader().stalled?.event_id === big.id, { what: 'the stall' });

    // A retry before the fix fails again and counts.
    await control('ProjectionRetryRequested', big);
    await waitFor(async () => relay.reader().stalled?.attempts === 2, { what: 'the failed retry' });

    limit = nc.info!.max_payload;
    await control('ProjectionRetryRequested', big);
    await waitFor(async () => (await published()).has(after.id), { what: 'the events after the retry' });
    expect((await published()).has(big.id)).toBe(true);
    expect(relay.reader()).toMatchObject({ state: 'running', stalled: null });
    await relay.stop();
  });
});
