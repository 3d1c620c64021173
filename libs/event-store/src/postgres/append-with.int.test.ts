/**
 * appendManyWith: append_batch and the caller's own SQL in one statement — each append's
 * outcome visible to that SQL, one round trip, atomic as one statement is; an append the
 * store cannot hold refused before anything is sent; observeAppends sees what it wrote.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { ConcurrencyError, createPostgresEventStore, EventTooLargeError, observeAppends, type AppendStatement, type NewEvent, type PostgresEventStore } from '../index';

const MAX = 4_096;
const stream = () => `with-${randomUUID().slice(0, 8)}`;
const event = (data: unknown): NewEvent => ({ id: randomUUID(), type: 'Tested', data });

/** The caller's side table gets one row per append that wrote, with the stream name it passed. */
const sideRows = (names: string[]): AppendStatement => ({
  ctes: (param) => `side as (
    insert into side_rows (stream_name)
    select n from unnest(${param(names)}::text[]) with ordinality as x(n, i), appended a
    where a.r_outcomes[x.i] = 'ok'
    returning 1)`,
  select: () => '(select count(*) from side)',
});

describe('appendManyWith', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let client: pg.PoolClient;
  const sent: string[] = [];
  beforeAll(async () => {
    db = await createTestDatabase('es_append_with');
    store = createPostgresEventStore({ pool: db.pool, maxEventBytes: MAX, pollIntervalMs: 60_000 });
    await store.migrate();
    await db.pool.query('create table side_rows (stream_name text not null)');
    client = await db.pool.connect();
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      sent.push(typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text);
      return query(...args);
    };
  });
  afterAll(async () => {
    client?.release();
    await store.close();
    await db.drop();
  });

  const side = async (names: string[]) => (await db.pool.query<{ stream_name: string }>('select stream_name from side_rows where stream_name = any($1) order by 1', [names])).rows.map((r) => r.stream_name);

  it('writes the events and the caller’s rows in one statement, the caller seeing each append’s outcome', async () => {
    const [a, b] = [stream(), stream()];
    const bEvent = event({ b: 1 });
    await store.append(b, [bEvent], 'no_stream');
    sent.length = 0;
    // b's append is a re-append of what is stored (a duplicate): no side row for it.
    const results = await store.appendManyWith(
      client,
      [
        { stream: a, events: [event({ a: 1 }), event({ a: 2 })], expected: 'no_stream' },
        { stream: b, events: [bEvent], expected: 'no_stream' },
      ],
      sideRows([a, b]),
    );
    expect(sent).toHaveLength(1);
    expect(results.map((r) => [r.appended, r.nextExpectedVersion])).toEqual([
      [2, 1],
      [0, 0],
    ]);
    expect(await side([a, b])).toEqual([a]);
    expect((await store.readStream(a)).map((e) => e.data)).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('throws the first refused append as appendMany does; what was written commits with the statement', async () => {
    const [a, b] = [stream(), stream()];
    await store.append(b, [event({ first: true })], 'no_stream');
    await expect(
      store.appendManyWith(
        client,
        [
          { stream: a, events: [event({ a: 1 })], expected: 'no_stream' },
          { stream: b, events: [event({ b: 1 })], expected: 'no_stream' },
        ],
        sideRows([a, b]),
      ),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await side([a, b])).toEqual([a]);
    expect(await store.readStream(a)).toHaveLength(1);
  });

  it('refuses an append the store cannot hold before sending anything', async () => {
    const [a, b] = [stream(), stream()];
    sent.length = 0;
    await expect(
      store.appendManyWith(
        client,
        [
          { stream: a, events: [event({ fine: true })], expected: 'no_stream' },
          { stream: b, events: [event({ s: 'x'.repeat(MAX) })], expected: 'no_stream' },
        ],
        sideRows([a, b]),
      ),
    ).rejects.toBeInstanceOf(EventTooLargeError);
    expect(sent).toHaveLength(0);
    expect(await store.readStream(a)).toEqual([]);
  });

  it('is seen by observeAppends like appendManyInTransaction', async () => {
    const seen: string[] = [];
    const observed = observeAppends(store, (s, events) => seen.push(`${s}:${events.length}`));
    const a = stream();
    await observed.appendManyWith(client, [{ stream: a, events: [event({ a: 1 })], expected: 'no_stream' }], sideRows([a]));
    expect(seen).toEqual([`${a}:1`]);
  });
});
