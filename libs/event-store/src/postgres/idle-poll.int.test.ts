/**
 * A caught-up subscription on a quiet store: its safety-net poll doubles while it finds
 * nothing (each read a statement, a transaction and a wake-up of two processes), yet a
 * notified append is read at once, and one whose NOTIFY was lost is still read by the poll.
 * The reads are counted on a real pool (the text of each query sent through it).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, waitFor, type TestDatabase } from '@fairlead/testing';
import { createPostgresEventStore, START, type PostgresEventStore } from '../index';
import { DEFAULT_MAX_EVENT_BYTES } from '../encode-events';
import { appendBatch } from './append';

/** A real pool that notes when each read of the global log was sent. */
function readCountingPool(url: string) {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const reads: number[] = [];
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const first = args[0];
    if ((typeof first === 'string' ? first : String((first as { text?: string }).text)).includes('read_page')) reads.push(performance.now());
    return query(...args);
  };
  return { pool, reads };
}

const gaps = (reads: readonly number[]) => reads.slice(1).map((at, i) => at - reads[i]!);

describe('the safety-net poll of a subscription on a quiet store', () => {
  let db: TestDatabase;
  let counted: ReturnType<typeof readCountingPool>;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = await createTestDatabase('es_idle_poll');
    counted = readCountingPool(db.url);
    store = createPostgresEventStore({ pool: counted.pool, pollIntervalMs: 50, maxPollIntervalMs: 400 });
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
    await counted.pool.end();
    await db.drop();
  });

  it('doubles while nothing arrives, up to maxPollIntervalMs (50, 100, 200, 400, 400 ms, not 50 ms each)', async () => {
    counted.reads.length = 0;
    const subscription = store.subscribe({ from: (await store.headCheckpoint()) ?? START, handler: () => undefined });
    // The first read, one more when the LISTEN connection is up (it wakes every subscription), then 50, 100, 200, 400, 400, 400 ms.
    await waitFor(() => counted.reads.length >= 8, { what: 'eight reads of the quiet log', timeoutMs: 10_000 });
    await subscription.stop();
    const seen = gaps(counted.reads.slice(0, 8));
    // Timers fire late, never early (a few ms of slack for the clocks).
    for (const gap of seen.slice(-3)) expect(gap).toBeGreaterThanOrEqual(395);
    expect(seen.slice(-3).reduce((a, b) => a + b)).toBeLessThan(3 * 400 + 600);
  });

  it('reads a notified append at once however far the poll has grown', async () => {
    const seen: string[] = [];
    const subscription = store.subscribe({ from: (await store.headCheckpoint()) ?? START, handler: (e) => void seen.push(e.id) });
    counted.reads.length = 0;
    await waitFor(() => counted.reads.length >= 5, { what: 'the poll grown to 400 ms', timeoutMs: 10_000 });
    const id = randomUUID();
    const appended = performance.now();
    await store.append(`lead-${randomUUID()}`, [{ id, type: 'Tested', data: {} }], 'no_stream');
    await waitFor(() => seen.includes(id), { what: 'the append delivered' });
    const latency = performance.now() - appended;
    await subscription.stop();
    // The NOTIFY's read, not the poll's (400 ms apart by now).
    expect(latency).toBeLessThan(300);
  });

  it('still reads an append whose NOTIFY was lost, within maxPollIntervalMs, and polls quickly again after it', async () => {
    const seen: string[] = [];
    const subscription = store.subscribe({ from: (await store.headCheckpoint()) ?? START, handler: (e) => void seen.push(e.id) });
    counted.reads.length = 0;
    await waitFor(() => counted.reads.length >= 5, { what: 'the poll grown to 400 ms', timeoutMs: 10_000 });
    const id = randomUUID();
    // The store's own append without its NOTIFY: what a notifier whose connection failed after the commit leaves.
    const [outcome] = await appendBatch(counted.pool, 'eventstore', [{ stream: `lead-${randomUUID()}`, events: [{ id, type: 'Tested', data: {} }], expected: 'no_stream' }], false, DEFAULT_MAX_EVENT_BYTES);
    expect(outcome?.ok).toBe(true);
    const appended = performance.now();
    await waitFor(() => seen.includes(id), { what: 'the append found by the poll', timeoutMs: 5_000 });
    expect(performance.now() - appended).toBeLessThan(400 + 300);
    const found = counted.reads.length;
    await waitFor(() => counted.reads.length >= found + 2, { what: 'two more polls' });
    await subscription.stop();
    // The read that found it started the poll over: the next one 50 ms later.
    expect(gaps(counted.reads.slice(found - 1, found + 1))[0]).toBeLessThan(200);
  });
});
