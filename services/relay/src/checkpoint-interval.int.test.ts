/**
 * The relay writes its checkpoint at most once per interval, yet stop() always stores the
 * last position. Writes are counted by a trigger on the checkpoint table, so the count is
 * what PostgreSQL received, not what the relay says it did. A write whose connection
 * PostgreSQL ends is tried again; it does not end the relay.
 */
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subjects } from '@fairlead/contracts';
import type { PostgresEventStore } from '@fairlead/event-store';
import { createLogger } from '@fairlead/platform';
import { waitFor, type TestDatabase } from '@fairlead/testing';
import { readRelayCheckpoint, startRelay, type RelayOptions } from './relay';
import { appendMany, readAllMessages, openRelayTestEnvironment, streamMessageCount, type RelayTestEnvironment } from './test-support';

const logger = createLogger({ service: 'relay-checkpoint-test', level: 'warn' });

describe('relay checkpoint interval', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let subjects: Subjects;
  let env: RelayTestEnvironment;

  beforeAll(async () => {
    env = await openRelayTestEnvironment('relay_checkpoint');
    ({ db, store, nc, jsm, subjects } = env);
    await readRelayCheckpoint(db.pool); // creates the checkpoint table, for the trigger
    await db.pool.query(`create table checkpoint_writes (n int not null); insert into checkpoint_writes values (0)`);
    await db.pool.query(`create function count_checkpoint_write() returns trigger language plpgsql as $$
      begin update checkpoint_writes set n = n + 1; return null; end $$`);
    await db.pool.query(`create trigger counted after insert or update on relay.projection_checkpoints for each row execute function count_checkpoint_write()`);
  });

  afterAll(async () => {
    await env.close();
  });

  const writes = async () => (await db.pool.query<{ n: number }>('select n from checkpoint_writes')).rows[0]!.n;
  const relayWith = (options: Partial<RelayOptions>) => startRelay({ store, pool: db.pool, js: jetstream(nc), subjects, logger, ...options });
  const inStream = () => streamMessageCount(jsm, subjects.streams.events);

  it('stores the last position at stop, so the next relay continues from it without republishing', async () => {
    const ids = await appendMany(store, { streams: 2, perStream: 100, category: 'first' });
    // An interval longer than the test: after the first batch, only stop() writes.
    const relay = await relayWith({ batchSize: 10, checkpointIntervalMs: 600_000 });
    await waitFor(() => relay.status().published === ids.length, { what: 'the first events published' });
    expect(relay.status().batches).toBeGreaterThan(1);
    expect((await readRelayCheckpoint(db.pool)).globalPosition, 'later batches wait for the interval').toBeLessThan(relay.status().checkpoint.globalPosition);
    expect(await writes()).toBe(1);

    await relay.stop();
    const last = relay.status().checkpoint;
    expect(await readRelayCheckpoint(db.pool)).toEqual(last);
    expect(relay.status().storedCheckpoint).toEqual(last);
    expect(await writes()).toBe(2);

    const more = await appendMany(store, { streams: 1, perStream: 30, category: 'second' });
    const next = await relayWith({ batchSize: 10, checkpointIntervalMs: 600_000 });
    // Global order: once the last new event is in the stream, any repeat would have been published before it.
    await waitFor(async () => (await inStream()) === ids.length + more.length, { what: 'the new events in JetStream' });
    await next.stop();
    expect(next.status().published, 'nothing before the stored position is published again').toBe(more.length);
    const messages = await readAllMessages(nc, subjects.streams.events);
    expect(new Set(messages.map((m) => m.msgId))).toEqual(new Set([...ids, ...more]));
    // One stream appended in order: its events end the JetStream stream in that order.
    expect(messages.slice(-more.length).map((m) => m.msgId)).toEqual(more);
  });

  it('under a steady stream writes the checkpoint far fewer times than it publishes batches, and catches up once idle', async () => {
    const before = await writes();
    const publishedBefore = await inStream();
    // The default interval; two events per batch make many batches.
    const relay = await relayWith({ batchSize: 2 });
    const ids = await appendMany(store, { streams: 4, perStream: 250, chunk: 5, category: 'steady' });
    await waitFor(() => relay.status().published === ids.length, { what: 'the steady stream published' });
    // Idle, the last position is stored within an interval, without a stop.
    await waitFor(async () => (await readRelayCheckpoint(db.pool)).globalPosition === relay.status().checkpoint.globalPosition, { what: 'the idle relay to store its position' });
    await relay.stop();

    const { batches, checkpointWrites } = relay.status();
    expect(batches).toBeGreaterThanOrEqual(ids.length / 2);
    expect(await writes(), 'the relay counts the writes PostgreSQL saw').toBe(before + checkpointWrites);
    expect(checkpointWrites).toBeGreaterThan(0);
    expect(checkpointWrites * 5, `${checkpointWrites} writes for ${batches} batches`).toBeLessThan(batches);
    expect(await inStream()).toBe(publishedBefore + ids.length);
  });

  it('a checkpoint write whose connection PostgreSQL ends (a restart, an administrator) is retried, less often each time, with one warning: the relay goes on publishing', async () => {
    const lines: { level: number; msg: string }[] = [];
    const captured = createLogger({ service: 'relay-checkpoint-test', level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) } });
    const relay = await relayWith({ checkpointIntervalMs: 20, logger: captured });
    const first = await appendMany(store, { streams: 1, perStream: 10, category: 'ended' });
    await waitFor(async () => (await readRelayCheckpoint(db.pool)).globalPosition === relay.status().checkpoint.globalPosition && relay.status().published === first.length, {
      what: 'the first events published and their position stored',
    });
    // The next three writes each end their own connection (a sequence: not undone with the aborted transaction).
    await db.pool.query(`create sequence checkpoint_write_ends`);
    await db.pool.query(`create function end_checkpoint_write() returns trigger language plpgsql as $$
      begin if nextval('checkpoint_write_ends') <= 3 then perform pg_terminate_backend(pg_backend_pid()); perform pg_sleep(5); end if; return new; end $$`);
    const ends = async () => Number((await db.pool.query<{ n: string }>(`select case when is_called then last_value else 0 end as n from checkpoint_write_ends`)).rows[0]!.n);
    let more: string[] = [];
    await db.pool.query(`create trigger ended before insert or update on relay.projection_checkpoints for each row execute function end_checkpoint_write()`);
    try {
      more = await appendMany(store, { streams: 1, perStream: 10, category: 'ended' });
      await waitFor(async () => (await ends()) >= 1, { what: 'a checkpoint write ended' });
      const firstEnded = Date.now();
      // Publishing goes on while the writes fail.
      more = [...more, ...(await appendMany(store, { streams: 1, perStream: 10, category: 'ended' }))];
      await waitFor(() => relay.status().published === first.length + more.length, { what: 'events published while the writes fail' });
      await waitFor(async () => (await ends()) >= 3, { what: 'three checkpoint writes ended' });
      // Tried again after 1 s, then 2 s: three failures 20 ms apart would take a few tens of milliseconds.
      expect(Date.now() - firstEnded).toBeGreaterThan(2_000);
    } finally {
      await db.pool.query(`drop trigger ended on relay.projection_checkpoints`);
    }
    await waitFor(async () => (await readRelayCheckpoint(db.pool)).globalPosition === relay.status().checkpoint.globalPosition, { what: 'the position stored again' });
    let failed: unknown;
    void relay.done.catch((error: unknown) => (failed = error));
    await relay.stop();
    expect(failed).toBeUndefined();
    const said = (msg: string) => lines.filter((l) => l.msg === msg).length;
    expect(said('relay could not store its checkpoint; trying again'), 'one warning for a run of failed writes').toBe(1);
    expect(said('relay stored its checkpoint again')).toBe(1);
  });
});
