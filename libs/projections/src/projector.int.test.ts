/**
 * The live projector on a real PostgreSQL event store: each event it applies is applied
 * once with its checkpoint; events of types it does not take only move its position, and
 * the stored checkpoint follows them by the time it stops.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { CheckpointTable } from './checkpoints';
import { startProjector, startProjectorGroup, type ProjectionDefinition } from './projector';

let db: TestDatabase;
let store: PostgresEventStore;

beforeAll(async () => {
  db = await createTestDatabase('projector');
  store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  await db.pool.query('create schema if not exists rm; create table rm.counted (type text not null, n integer not null)');
});
afterAll(async () => {
  await store.close();
  await db.drop();
});

const event = (type: string) => ({ id: randomUUID(), type, data: { at: Date.now() } });

describe('startProjector', () => {
  it('applies only the event types it takes, skips the rest without a transaction, and stores the position it reached at stop', async () => {
    const applied: string[] = [];
    const projection: ProjectionDefinition = {
      name: 'rm.counted',
      categories: ['thing'],
      eventTypes: ['ThingCreated'],
      apply: async (e, client) => {
        applied.push(e.type);
        await client.query('insert into rm.counted (type, n) values ($1, 1)', [e.type]);
      },
    };
    const projector = await startProjector({ store, pool: db.pool, schema: 'rm', projection, minReadIntervalMs: 1 });
    await store.append('thing-1', [event('ThingCreated'), event('ThingTouched'), event('ThingTouched')], 'no_stream');
    await store.append('thing-2', [event('ThingTouched'), event('ThingCreated'), event('ThingTouched')], 'no_stream');
    const last = await store.append('thing-3', [event('ThingTouched')], 'no_stream');
    // Caught up means past the skipped events too, though nothing was applied for them.
    await projector.waitUntilCaughtUp(5_000);
    expect(applied).toEqual(['ThingCreated', 'ThingCreated']);
    expect(projector.position().globalPosition).toBe(last.lastGlobalPosition);
    const { rows } = await db.pool.query<{ n: number }>('select count(*)::int as n from rm.counted');
    expect(rows[0]!.n).toBe(2);

    await projector.stop();
    const stored = await new CheckpointTable('rm').read(db.pool, 'rm.counted');
    expect(stored.globalPosition).toBe(last.lastGlobalPosition);

    // A restart goes on from there: nothing applied twice, the next event applied once.
    const again = await startProjector({ store, pool: db.pool, schema: 'rm', projection, minReadIntervalMs: 1 });
    await store.append('thing-4', [event('ThingCreated')], 'no_stream');
    await again.waitUntilCaughtUp(5_000);
    await again.stop();
    expect(applied).toEqual(['ThingCreated', 'ThingCreated', 'ThingCreated']);
  });

  it('feeds several projections from one reader: each gets its categories, from its own checkpoint, applied once', async () => {
    const seen: Record<string, string[]> = { a: [], b: [] };
    const define = (name: 'a' | 'b', category: string): ProjectionDefinition => ({
      name: `rm.group_${name}`,
      categories: [category],
      apply: async (e) => void seen[name]!.push((e.data as { tag: string }).tag),
    });
    const tagged = (type: string, tag: string) => ({ id: randomUUID(), type, data: { tag } });
    const a = define('a', 'gala');
    const b = define('b', 'galb');
    // a runs alone first and gets ahead; b joins later from nothing.
    const alone = await startProjector({ store, pool: db.pool, schema: 'rm', projection: a, minReadIntervalMs: 1 });
    await store.append('gala-1', [tagged('X', 'a1'), tagged('X', 'a2')], 'no_stream');
    await store.append('galb-1', [tagged('X', 'b1')], 'no_stream');
    await alone.waitUntilCaughtUp(5_000);
    await alone.stop();
    expect(seen).toEqual({ a: ['a1', 'a2'], b: [] });

    const group = await startProjectorGroup({ store, pool: db.pool, schema: 'rm', projections: [a, b], minReadIntervalMs: 1 });
    await store.append('gala-2', [tagged('X', 'a3')], 'no_stream');
    await store.append('galb-2', [tagged('X', 'b2')], 'no_stream');
    await Promise.all(group.map((p) => p.waitUntilCaughtUp(5_000)));
    // a got only what came after its checkpoint; b everything of its category.
    expect(seen).toEqual({ a: ['a1', 'a2', 'a3'], b: ['b1', 'b2'] });
    expect(group.map((p) => p.name)).toEqual(['rm.group_a', 'rm.group_b']);
    await Promise.all(group.map((p) => p.stop()));
    const table = new CheckpointTable('rm');
    const [ra, rb] = [await table.read(db.pool, 'rm.group_a'), await table.read(db.pool, 'rm.group_b')];
    expect(ra.globalPosition).toBe(group[0]!.position().globalPosition);
    expect(rb.globalPosition).toBe(group[1]!.position().globalPosition);
  });

  it('answers a waiter at once, whatever the read interval (a group spaced for few pages still serves read-your-writes)', async () => {
    const projection: ProjectionDefinition = {
      name: 'rm.spaced',
      categories: ['spaced'],
      apply: async (e, client) => void (await client.query('insert into rm.counted (type, n) values ($1, 1)', [e.type])),
    };
    // Far longer than the waits below: only a read made for the waiter can answer them.
    const projector = await startProjector({ store, pool: db.pool, schema: 'rm', projection, minReadIntervalMs: 60_000 });
    for (let round = 1; round <= 3; round++) {
      const appended = await store.append(`spaced-${round}`, [event('Spaced')], 'no_stream');
      const asked = Date.now();
      await projector.waitUntilCaughtUp(5_000);
      expect(Date.now() - asked).toBeLessThan(5_000);
      expect(projector.position().globalPosition).toBe(appended.lastGlobalPosition);
    }
    const { rows } = await db.pool.query<{ n: number }>(`select count(*)::int as n from rm.counted where type = 'Spaced'`);
    expect(rows[0]!.n).toBe(3);
    await projector.stop();
  });

  it('applies a page in five statements: begin, the turn (lock and checkpoint rows in one call), the apply, the checkpoint, commit', async () => {
    // A pool of its own whose connections record what they send.
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const sent: string[] = [];
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const first = args[0];
        sent.push(typeof first === 'string' ? first : String((first as { text?: string }).text));
        return query(...args);
      };
    });
    const projection: ProjectionDefinition = {
      name: 'rm.paged',
      categories: ['paged'],
      apply: async (e, client) => void (await client.query('insert into rm.counted (type, n) values ($1, 1)', [e.type])),
    };
    const projector = await startProjector({ store, pool, schema: 'rm', projection, minReadIntervalMs: 1 });
    await projector.waitUntilCaughtUp(5_000);
    sent.length = 0;
    await store.append('paged-1', [event('Paged')], 'no_stream');
    await projector.waitUntilCaughtUp(5_000);
    await projector.stop();
    const page = sent.slice(0, sent.indexOf('commit') + 1);
    expect(page.map((q) => q.replace(/\s+/g, ' '))).toEqual([
      'begin',
      expect.stringContaining('projector_turn($1, $2::text[])'),
      expect.stringContaining('insert into rm.counted'),
      expect.stringContaining('insert into rm.projection_checkpoints'),
      'commit',
    ]);
    await pool.end();
  });
});
