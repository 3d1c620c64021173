/**
 * Two replicas of a service run the same projections on the same read model and checkpoint
 * rows (each its own pool and reader of the log, as two processes would). Every event must
 * be applied once per service, not once per process: the projection here is deliberately
 * not idempotent (a counter, and a row per event whose second insert would fail).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { CheckpointTable } from './checkpoints';
import { startProjectorGroup, type ProjectionDefinition, type RunningProjector } from './projector';

let db: TestDatabase;
let store: PostgresEventStore;
const pools: pg.Pool[] = [];
const stores: PostgresEventStore[] = [];

beforeAll(async () => {
  db = await createTestDatabase('projector_replicas');
  store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await Promise.all(pools.map((p) => p.end()));
  await store.close();
  await db.drop();
});

const tally: ProjectionDefinition = {
  name: 'twin.tally',
  categories: ['tick'],
  setup: async (client) => {
    await client.query(`create schema if not exists twin;
      create table if not exists twin.tally (id int primary key, n int not null);
      insert into twin.tally values (1, 0) on conflict do nothing;
      create table if not exists twin.seen (event_id text primary key)`);
  },
  apply: async (event, client) => {
    await client.query('update twin.tally set n = n + 1 where id = 1');
    await client.query('insert into twin.seen (event_id) values ($1)', [event.id]);
  },
};

/**
 * Only a counter: a second application of an event raises no error here, so nothing but the
 * group's turn (its lock, then a read of the rows that sees the previous holder's commit) keeps
 * the count exact.
 */
const counter: ProjectionDefinition = {
  name: 'twin.counter',
  categories: ['tick'],
  setup: async (client) => {
    await client.query(`create schema if not exists twin;
      create table if not exists twin.counter (id int primary key, n int not null);
      insert into twin.counter values (1, 0) on conflict do nothing`);
  },
  apply: async (_event, client) => {
    await client.query('update twin.counter set n = n + 1 where id = 1');
  },
};

/** One replica of `projection`: a pool and reader of the log of its own, as a process would have. */
async function replica(projection: ProjectionDefinition): Promise<RunningProjector> {
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pools.push(pool);
  const own = createPostgresEventStore({ pool });
  stores.push(own);
  const [projector] = await startProjectorGroup({ store: own, pool, schema: 'twin', projections: [projection], minReadIntervalMs: 1 });
  return projector!;
}

/** 400 tick events: 40 writers × 5 appends of 2 events, at once (stream names tick-<tag><writer>-<n>). */
async function appendTicks(tag: string): Promise<void> {
  await Promise.all(
    Array.from({ length: 40 }, async (_, w) => {
      for (let i = 0; i < 5; i++) {
        await store.append(`tick-${tag}${w}-${i}`, [0, 1].map(() => ({ id: randomUUID(), type: 'Ticked', data: {} })), 'no_stream');
      }
    }),
  );
}

describe('projector replicas', () => {
  it('apply each event once between them while events are appended concurrently, and never move the checkpoint back', async () => {
    const [a, b] = await Promise.all([replica(tally), replica(tally)]);
    const failures: unknown[] = [];
    for (const p of [a, b]) p.done.catch((e: unknown) => failures.push(e));

    await appendTicks('');
    await Promise.all([a.waitUntilCaughtUp(60_000), b.waitUntilCaughtUp(60_000)]);

    const { rows } = await db.pool.query<{ n: number; seen: number }>('select n, (select count(*)::int from twin.seen) as seen from twin.tally');
    expect(failures).toEqual([]);
    expect(rows[0]).toEqual({ n: 400, seen: 400 });

    // The replica that is behind stops last: its stop must not take the stored position back.
    const ahead = [a, b].reduce((x, y) => (x.position().globalPosition >= y.position().globalPosition ? x : y));
    await Promise.all([a.stop(), b.stop()]);
    const stored = await new CheckpointTable('twin').read(db.pool, tally.name);
    expect(stored.globalPosition).toBe(ahead.position().globalPosition);
  });

  it('apply each event once between them when a second application would raise no error', async () => {
    const [a, b] = await Promise.all([replica(counter), replica(counter)]);
    const failures: unknown[] = [];
    for (const p of [a, b]) p.done.catch((e: unknown) => failures.push(e));
    const before = (await db.pool.query<{ n: number }>('select count(*)::int as n from eventstore.events where stream_name like $1', ['tick-%'])).rows[0]!.n;
    await appendTicks('c');
    await Promise.all([a.waitUntilCaughtUp(60_000), b.waitUntilCaughtUp(60_000)]);
    await Promise.all([a.stop(), b.stop()]);
    const { rows } = await db.pool.query<{ n: number }>('select n from twin.counter');
    expect(failures).toEqual([]);
    // Every tick event of the log, the first test's included (this projection started from nothing), once.
    expect(rows[0]!.n).toBe(before + 400);
  });
});
