/**
 * The store's own appends announce themselves with at most one NOTIFY per interval; an append
 * on an idle store carries that NOTIFY in its own transaction (no statement of its own), and a
 * burst of appends is still announced — with fewer NOTIFYs than appends.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, waitFor, type TestDatabase } from '@fairlead/testing';
import { createPostgresEventStore, START, type PostgresEventStore } from '../index';
import { notifyChannel } from './schema';

/** A real pool whose statements are recorded (text of each query sent through pool.query). */
function recordingPool(url: string) {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  const sent: string[] = [];
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const first = args[0];
    sent.push(typeof first === 'string' ? first : String((first as { text?: string }).text));
    return query(...args);
  };
  return { pool, sent };
}

describe('the NOTIFY of the store’s own appends', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let recorded: ReturnType<typeof recordingPool>;
  let listener: pg.Client;
  const payloads: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('es_notify_inline');
    recorded = recordingPool(db.url);
    store = createPostgresEventStore({ pool: recorded.pool, schema: 'eventstore', pollIntervalMs: 60_000, notifyIntervalMs: 20 });
    await store.migrate();
    listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    listener.on('notification', (n) => payloads.push(n.payload ?? ''));
    await listener.query(`listen ${notifyChannel('eventstore')}`);
  });
  afterAll(async () => {
    await listener.end();
    await store.close();
    await recorded.pool.end();
    await db.drop();
  });

  it('an append on an idle store carries its NOTIFY: one statement, and the listener hears its category', async () => {
    await new Promise((resolve) => setTimeout(resolve, 30)); // past the notify interval of the migration's own work
    recorded.sent.length = 0;
    payloads.length = 0;
    await store.append(`lead-${randomUUID()}`, [{ id: randomUUID(), type: 'Tested', data: {} }], 'no_stream');
    await waitFor(() => payloads.length === 1, { what: 'the NOTIFY of the append' });
    expect(payloads).toEqual(['lead']);
    expect(recorded.sent.filter((q) => q.includes('pg_notify'))).toEqual([]);
    expect(recorded.sent.filter((q) => q.includes('append_batch'))).toHaveLength(1);
  });

  it('a burst of appends is announced to the last commit, with fewer NOTIFYs than appends', async () => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    const head = (await store.headCheckpoint()) ?? START;
    // Subscriptions poll once a minute here: each live delivery below was woken by a NOTIFY.
    const seen = new Set<string>();
    const subscription = store.subscribe({ from: head, handler: (e) => void seen.add(e.id) });
    recorded.sent.length = 0;
    payloads.length = 0;
    const appends = 40;
    const ids = Array.from({ length: appends }, () => randomUUID());
    const started = Date.now();
    await Promise.all(ids.map((id, n) => store.append(`${n % 2 ? 'lead' : 'wallet'}-${randomUUID()}`, [{ id, type: 'Tested', data: {} }], 'no_stream')));
    await waitFor(() => ids.every((id) => seen.has(id)), { what: 'every appended event delivered live' });
    const elapsed = Date.now() - started;
    await subscription.stop();
    expect(payloads.length).toBeGreaterThan(0);
    // At most one NOTIFY per interval (20 ms), inside an append or on its own.
    expect(payloads.length).toBeLessThanOrEqual(Math.ceil(elapsed / 20) + 1);
    expect(payloads.length).toBeLessThan(appends);
    expect(new Set(payloads.flatMap((p) => (p === '' ? ['lead', 'wallet'] : p.split(','))))).toEqual(new Set(['lead', 'wallet']));
  });
});
