/**
 * A projection fed an event it cannot apply: it stops just before that event and says so
 * (status, waitUntilCaughtUp), the other projections of its group go on, nothing after the
 * event is lost, and an operator's decision on the control stream — park the event, or
 * retry it after a fix — lets it go on from there, also across restarts.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectionControlStream, SYSTEM_ACTOR } from '@fairlead/contracts';
import { createPostgresEventStore, type PostgresEventStore, type StoredEvent } from '@fairlead/event-store';
import { createTestDatabase, waitFor, type TestDatabase } from '@fairlead/testing';
import { CheckpointTable } from './checkpoints';
import { ProjectionStalledError, startProjectorGroup, type ProjectionDefinition, type RunningProjector } from './projector';

let db: TestDatabase;
let store: PostgresEventStore;

beforeAll(async () => {
  db = await createTestDatabase('stall');
  store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  await db.pool.query('create schema if not exists st; create table st.seen (projection text not null, tag text not null, primary key (projection, tag))');
});
afterAll(async () => {
  await store.close();
  await db.drop();
});

const tagged = (tag: string, extra: Record<string, unknown> = {}) => ({ id: randomUUID(), type: 'Tagged', data: { tag, ...extra } });
const seen = async (projection: string) =>
  (await db.pool.query<{ tag: string }>('select tag from st.seen where projection = $1 order by tag', [projection])).rows.map((r) => r.tag);

/** A projection that records tags, and fails on events marked poison while `failing` says so. */
function recorder(name: string, category: string, failing: () => boolean, withBatch = false): ProjectionDefinition {
  const apply = async (e: StoredEvent, client: pg.PoolClient) => {
    const d = e.data as { tag: string; poison?: boolean };
    // A write before the failure: it must be undone with the event, not half-applied.
    await client.query('insert into st.seen (projection, tag) values ($1, $2)', [name, d.tag]);
    if (d.poison && failing()) throw new Error(`cannot apply ${d.tag}`);
  };
  return {
    name,
    categories: [category],
    apply,
    // The batched path fails as a whole; the projector then pins the failure on one event.
    ...(withBatch ? { applyBatch: async (events: readonly StoredEvent[], client: pg.PoolClient) => { for (const e of events) await apply(e, client); } } : {}),
  };
}

const park = (projection: string, event: StoredEvent, reason = 'bad event') =>
  store.append(projectionControlStream(projection), [
    {
      id: randomUUID(),
      type: 'ProjectionEventParked',
      data: { projection, event_id: event.id, event_type: event.type, stream: event.stream, global_position: event.globalPosition.toString(), error: 'x', reason, actor: SYSTEM_ACTOR, at: new Date().toISOString() },
    },
  ], 'any');
const retry = (projection: string, eventId: string) =>
  store.append(projectionControlStream(projection), [{ id: randomUUID(), type: 'ProjectionRetryRequested', data: { projection, event_id: eventId, actor: SYSTEM_ACTOR, at: new Date().toISOString() } }], 'any');

const start = (projections: ProjectionDefinition[]) => startProjectorGroup({ store, pool: db.pool, schema: 'st', projections, minReadIntervalMs: 1, controlPollMs: 50 });
const stalledOn = (p: RunningProjector) => p.status().stalled?.event_id;

describe('a projection fed an event it cannot apply', () => {
  it.each([
    ['apply() per event', false],
    ['applyBatch() for the page', true],
  ])('stalls just before it, says so, lets its group go on, and goes on after an operator parks it (%s)', async (_, withBatch) => {
    const cat = `c${randomUUID().slice(0, 6)}`;
    const names = { a: `st.a_${cat}`, b: `st.b_${cat}` };
    const a = recorder(names.a, cat, () => true, withBatch);
    const b = recorder(names.b, cat, () => false, withBatch);
    let group = await start([a, b]);
    // One append, so the three events arrive in one page.
    await store.append(`${cat}-1`, [tagged('1'), tagged('2', { poison: true }), tagged('3')], 'no_stream');
    const [poison] = (await store.readStream(`${cat}-1`)).filter((e) => (e.data as { tag: string }).tag === '2');

    await group[1]!.waitUntilCaughtUp(10_000);
    expect(await seen(names.b)).toEqual(['1', '2', '3']);
    await waitFor(async () => stalledOn(group[0]!) === poison!.id, { what: 'the stall' });
    expect(await seen(names.a)).toEqual(['1']);
    const status = group[0]!.status();
    expect(status).toMatchObject({ name: names.a, state: 'stalled', stalled: { event_type: 'Tagged', global_position: poison!.globalPosition.toString(), error: 'cannot apply 2', attempts: 1 } });
    const error = await group[0]!.waitUntilCaughtUp(1_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionStalledError);
    expect(String(error)).toContain(`projection ${names.a} stalled at position ${poison!.globalPosition}`);
    // Stored just before the poison event: a restart meets it again.
    expect((await new CheckpointTable('st').read(db.pool, names.a)).globalPosition).toBeLessThan(poison!.globalPosition);

    // Later events keep coming; the stalled one holds them back for itself only.
    await store.append(`${cat}-2`, [tagged('4')], 'no_stream');
    await group[1]!.waitUntilCaughtUp(10_000);
    expect(await seen(names.b)).toEqual(['1', '2', '3', '4']);
    expect(await seen(names.a)).toEqual(['1']);

    await park(names.a, poison!);
    await waitFor(async () => group[0]!.status().state === 'running', { what: 'the projection to go on' });
    await group[0]!.waitUntilCaughtUp(10_000);
    expect(await seen(names.a)).toEqual(['1', '3', '4']);
    expect(group[0]!.status().parked).toBe(1);

    // After a restart the parked event stays skipped; new events are applied once.
    await Promise.all(group.map((p) => p.stop()));
    group = await start([a, b]);
    await store.append(`${cat}-3`, [tagged('5')], 'no_stream');
    await Promise.all(group.map((p) => p.waitUntilCaughtUp(10_000)));
    expect(await seen(names.a)).toEqual(['1', '3', '4', '5']);
    expect(group[0]!.status()).toMatchObject({ state: 'running', parked: 1 });
    await Promise.all(group.map((p) => p.stop()));
  });

  it('stalls again after a restart until fixed, then a retry applies the event and everything after it', async () => {
    const cat = `r${randomUUID().slice(0, 6)}`;
    const name = `st.r_${cat}`;
    let broken = true;
    const projection = recorder(name, cat, () => broken);
    let [p] = await start([projection]);
    await store.append(`${cat}-1`, [tagged('1'), tagged('2', { poison: true })], 'no_stream');
    const poison = (await store.readStream(`${cat}-1`))[1]!;
    await waitFor(async () => stalledOn(p!) === poison.id, { what: 'the stall' });

    // A restart does not get past it by itself.
    await p!.stop();
    [p] = await start([projection]);
    await store.append(`${cat}-2`, [tagged('3')], 'no_stream');
    await waitFor(async () => stalledOn(p!) === poison.id, { what: 'the stall after a restart' });
    // A retry before the fix fails again, and counts.
    await retry(name, poison.id);
    await waitFor(async () => p!.status().stalled?.attempts === 2, { what: 'the failed retry' });
    expect(await seen(name)).toEqual(['1']);

    broken = false;
    await retry(name, poison.id);
    await waitFor(async () => p!.status().state === 'running', { what: 'the retry' });
    await p!.waitUntilCaughtUp(10_000);
    expect(await seen(name)).toEqual(['1', '2', '3']);
    expect(p!.status().parked).toBe(0);
    await p!.stop();
  });
});
