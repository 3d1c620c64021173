/** PostgreSQL-specific behaviour beyond the shared contract. */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, waitFor, type TestDatabase } from '@fairlead/testing';
import { ConcurrencyError, createPostgresEventStore, START, type NewEvent, type PostgresEventStore, type StoredEvent } from '../index';
import { NotificationListener } from './listener';
import { readGlobalPage } from './read';

const event = (type = 'Tested'): NewEvent => ({ id: randomUUID(), type, data: { at: type } });
const unique = (label: string) => `${label}${randomUUID().slice(0, 8)}`;

async function readAllFrom(store: PostgresEventStore, from = START, categories?: string[]) {
  const all: StoredEvent[] = [];
  let checkpoint = from;
  for (;;) {
    const batch = await store.readAll(checkpoint, 100, categories ? { categories } : undefined);
    if (batch.events.length === 0) return { events: all, checkpoint: batch.checkpoint };
    all.push(...batch.events);
    checkpoint = batch.checkpoint;
  }
}

describe('PostgreSQL event store adapter', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  beforeAll(async () => {
    db = await createTestDatabase('es_pg');
    store = createPostgresEventStore({ pool: db.pool, pollIntervalMs: 60_000 });
    await store.migrate();
    await db.pool.query('create table side_effects (note text not null)');
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('migrate() from several processes at once applies the schema once', async () => {
    const others = Array.from({ length: 4 }, () => createPostgresEventStore({ connectionString: db.url, schema: 'es_parallel' }));
    const results = await Promise.all(others.map((s) => s.migrate()));
    expect(results.flatMap((r) => r.applied).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    await Promise.all(others.map((s) => s.close()));
  });

  describe('appendInTransaction', () => {
    it('commits or rolls back together with the caller’s other writes', async () => {
      const stream = `${unique('tx')}-1`;
      const client = await db.pool.connect();
      try {
        await client.query('begin');
        await client.query("insert into side_effects (note) values ('rolled back')");
        await store.appendInTransaction(client, stream, [event()], 'no_stream');
        await client.query('rollback');
        expect(await store.streamVersion(stream)).toBeUndefined();

        await client.query('begin');
        await client.query("insert into side_effects (note) values ('committed')");
        const result = await store.appendInTransaction(client, stream, [event(), event()], 'no_stream');
        expect(await store.streamVersion(stream)).toBeUndefined();
        await client.query('commit');
        expect(result).toMatchObject({ nextExpectedVersion: 1, appended: 2 });
        expect(await store.streamVersion(stream)).toBe(1);
      } finally {
        client.release();
      }
      const { rows } = await db.pool.query<{ note: string }>('select note from side_effects');
      expect(rows.map((r) => r.note)).toEqual(['committed']);
    });

    it('appendManyInTransaction writes several streams in one call, each checked against its own expected version', async () => {
      const a = `${unique('many')}-a`;
      const b = `${unique('many')}-b`;
      await store.append(b, [event()], 'no_stream');
      const client = await db.pool.connect();
      try {
        await client.query('begin');
        const results = await store.appendManyInTransaction(client, [
          { stream: a, events: [event(), event()], expected: 'no_stream' },
          { stream: b, events: [event()], expected: 0 },
        ]);
        await client.query('commit');
        expect(results.map((r) => [r.nextExpectedVersion, r.appended])).toEqual([
          [1, 2],
          [1, 1],
        ]);
        const read = await store.readStreams([a, b, `${unique('many')}-absent`]);
        expect([...read.values()].map((events) => events.map((e) => e.streamVersion))).toEqual([[0, 1], [0, 1], []]);

        await client.query('begin');
        // b is at 1 now: the stale expectation fails the call, and the caller rolls back a's write.
        await expect(
          store.appendManyInTransaction(client, [
            { stream: a, events: [event()], expected: 1 },
            { stream: b, events: [event()], expected: 0 },
          ]),
        ).rejects.toBeInstanceOf(ConcurrencyError);
        await client.query('rollback');
        expect(await store.streamVersion(a)).toBe(1);
      } finally {
        client.release();
      }
    });

    it('a version conflict throws ConcurrencyError and leaves the transaction usable', async () => {
      const stream = `${unique('tx')}-1`;
      await store.append(stream, [event()], 'no_stream');
      const client = await db.pool.connect();
      try {
        await client.query('begin');
        await expect(store.appendInTransaction(client, stream, [event()], 'no_stream')).rejects.toBeInstanceOf(ConcurrencyError);
        const retried = await store.appendInTransaction(client, stream, [event()], 0);
        await client.query('commit');
        expect(retried.nextExpectedVersion).toBe(1);
      } finally {
        client.release();
      }
    });
  });

  it('NOTIFY names the categories written, in a caller\'s transaction and through the store, and append_batch stays security definer', async () => {
    const listener = await db.pool.connect();
    const payloads: string[] = [];
    listener.on('notification', (m) => payloads.push(m.payload ?? ''));
    await listener.query('listen eventstore_events');
    try {
      const client = await db.pool.connect();
      try {
        await client.query('begin');
        await store.appendManyInTransaction(client, [
          { stream: `lead-${unique('n')}`, events: [event()], expected: 'no_stream' },
          { stream: `wallet-${unique('n')}`, events: [event()], expected: 'no_stream' },
        ]);
        await client.query('commit');
      } finally {
        client.release();
      }
      await waitFor(() => payloads.includes('lead,wallet'), { timeoutMs: 5_000 });
      await store.append(`subscription-${unique('n')}`, [event()], 'no_stream');
      await waitFor(() => payloads.includes('subscription'), { timeoutMs: 5_000 });
    } finally {
      await listener.query('unlisten *');
      listener.release();
    }
    // Replacing the function (migration 5) kept the rights migration 4 gave it.
    const { rows } = await db.pool.query<{ prosecdef: boolean; proconfig: string[] }>(
      `select p.prosecdef, p.proconfig from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'eventstore' and p.proname = 'append_batch'`,
    );
    expect(rows).toEqual([{ prosecdef: true, proconfig: ['enable_seqscan=off', 'search_path=pg_catalog, pg_temp'] }]);
  });

  it('the LISTEN connection hands each wake-up the categories committed (what lets a subscription of others sleep)', async () => {
    const listener = new NotificationListener({
      channel: 'eventstore_events',
      connect: async () => {
        const client = await db.pool.connect();
        return { client, dispose: async (error) => client.release(error ?? true) };
      },
    });
    const wakes: (readonly string[] | undefined)[] = [];
    listener.register((categories) => void wakes.push(categories));
    try {
      // The first wake-up says nothing (anything may have been committed before LISTEN).
      await waitFor(() => wakes.length >= 1, { timeoutMs: 5_000 });
      expect(wakes[0]).toBeUndefined();
      const category = unique('cat');
      await store.append(`lead-${unique('n')}`, [event()], 'no_stream');
      await store.append(`${category}-1`, [event()], 'no_stream');
      await waitFor(() => wakes.some((w) => w?.includes(category)), { timeoutMs: 5_000 });
      expect(wakes.slice(1).flat()).toContain('lead');
      expect(wakes.slice(1).every((w) => w !== undefined && w.every((c) => c === 'lead' || c === category))).toBe(true);
    } finally {
      await listener.stop();
    }
  });

  it('holds back events of later transactions while an earlier one is open, then reads in transaction order', async () => {
    const category = unique('held');
    const head = (await readAllFrom(store)).checkpoint;
    const a = await db.pool.connect();
    try {
      await a.query('begin');
      await a.query('select pg_current_xact_id()');
      const eventB = event('B');
      const b = await store.append(`${category}-b`, [eventB], 'no_stream');
      expect((await readAllFrom(store, head, [category])).events).toEqual([]);
      // Readable head: not B yet. Committed head (what "caught up" waits for): B.
      expect(await store.headCheckpoint({ categories: [category] })).toBeUndefined();
      expect((await store.headCheckpoint({ categories: [category], includeHeldBack: true }))?.globalPosition).toBe(b.lastGlobalPosition);

      const eventA = event('A');
      await store.appendInTransaction(a, `${category}-a`, [eventA], 'no_stream');
      await a.query('commit');
      const after = (await readAllFrom(store, head, [category])).events;
      expect(after.map((e) => e.id)).toEqual([eventA.id, eventB.id]);
      // A was written after B, yet is read first: the checkpoint orders by transaction.
      expect(after[0]!.globalPosition > after[1]!.globalPosition).toBe(true);
      expect(after[0]!.transactionId < after[1]!.transactionId).toBe(true);
    } finally {
      a.release();
    }
  });

  it('says a page is held back only when events of its categories wait behind an open transaction', async () => {
    const category = unique('held');
    const other = unique('other');
    const head = (await readAllFrom(store)).checkpoint;
    const a = await db.pool.connect();
    try {
      await a.query('begin');
      await a.query('select pg_current_xact_id()');
      await store.append(`${other}-1`, [event()], 'no_stream');
      // Held back, but of another category: nothing for this reader to wait for.
      expect((await readGlobalPage(db.pool, 'eventstore', head, 100, [category])).heldBack).toBe(false);
      expect((await readGlobalPage(db.pool, 'eventstore', head, 100, [other])).heldBack).toBe(true);
      expect((await readGlobalPage(db.pool, 'eventstore', head, 100)).heldBack).toBe(true);
      await store.append(`${category}-1`, [event()], 'no_stream');
      expect((await readGlobalPage(db.pool, 'eventstore', head, 100, [category])).heldBack).toBe(true);
      await a.query('rollback');
      const page = await readGlobalPage(db.pool, 'eventstore', head, 100, [category]);
      expect(page.heldBack).toBe(false);
      expect(page.events.map((e) => e.stream)).toEqual([`${category}-1`]);
    } finally {
      a.release();
    }
  });

  it('round-trips global positions beyond 2^53 exactly', async () => {
    const big = 2n ** 53n + 10n;
    const separate = createPostgresEventStore({ connectionString: db.url, schema: 'es_bigint' });
    try {
      await separate.migrate();
      await db.pool.query("select setval('es_bigint.events_global_position_seq', $1::bigint)", [big.toString()]);
      const stream = `${unique('big')}-1`;
      const result = await separate.append(stream, [event(), event()], 'no_stream');
      expect(result.lastGlobalPosition).toBe(big + 2n);
      const [first, second] = await separate.readStream(stream);
      expect(first!.globalPosition).toBe(big + 1n);
      const rest = await separate.readAll({ transactionId: first!.transactionId, globalPosition: first!.globalPosition }, 10);
      expect(rest.events.map((e) => e.globalPosition)).toEqual([big + 2n]);
      expect(rest.checkpoint).toEqual({ transactionId: second!.transactionId, globalPosition: big + 2n });
    } finally {
      await separate.close();
    }
  });

  it('keeps stores in different schemas apart', async () => {
    const other = createPostgresEventStore({ connectionString: db.url, schema: 'es_other' });
    try {
      await other.migrate();
      const stream = `${unique('apart')}-1`;
      await other.append(stream, [event()], 'no_stream');
      expect(await store.streamVersion(stream)).toBeUndefined();
      expect(await other.streamVersion(stream)).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('re-establishes its LISTEN connection after it is killed, and live delivery resumes', async () => {
    const category = unique('listen');
    const received: string[] = [];
    const live = createPostgresEventStore({ connectionString: db.url, pollIntervalMs: 600_000 });
    const subscription = live.subscribe({ from: START, categories: [category], handler: (e) => void received.push(e.id) });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const listeners = async () =>
        (await admin.query<{ pid: number }>("select pid from pg_stat_activity where datname = current_database() and query ilike 'listen %' and pid <> pg_backend_pid()")).rows.map((r) => r.pid);
      const first = event();
      await store.append(`${category}-1`, [first], 'no_stream');
      await waitFor(() => received.includes(first.id), { what: 'delivery before the kill' });
      const [killed] = await waitFor(async () => {
        const pids = await listeners();
        return pids.length === 1 ? pids : undefined;
      }, { what: 'the LISTEN connection' });
      await admin.query('select pg_terminate_backend($1)', [killed]);
      await waitFor(async () => {
        const pids = await listeners();
        return pids.length === 1 && pids[0] !== killed;
      }, { what: 'a new LISTEN connection' });
      // The poll runs every 10 minutes here: only a notification can deliver this in time.
      const second = event();
      await store.append(`${category}-1`, [second], 0);
      await waitFor(() => received.includes(second.id), { what: 'delivery after reconnecting' });
      expect(received).toEqual([first.id, second.id]);
    } finally {
      await admin.end();
      await subscription.stop();
      await live.close();
    }
  });
});
