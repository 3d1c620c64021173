/**
 * Leads of one niche are decided one at a time, so that the least-recently-served order
 * each one reads includes the previous lead's assignments. Within a process the consumer
 * queues messages per niche; across processes this session-level advisory lock does it.
 */
import type pg from 'pg';

export interface NicheLockOptions {
  /** Longest wait for another instance to release the niche; then the attempt fails and is retried. */
  waitMs?: number;
}

const LOCK_KEY = 'hashtextextended($1, 0)';

/**
 * Runs `work` holding the niche's lock on a dedicated connection, which `work` may use
 * for its own queries (it must not leave a transaction open). If the process dies,
 * PostgreSQL ends the session and the lock goes with it.
 */
export async function withNicheLock<T>(pool: pg.Pool, nicheId: string, work: (client: pg.PoolClient) => Promise<T>, options: NicheLockOptions = {}): Promise<T> {
  const client = await pool.connect();
  const key = `fairness:niche:${nicheId}`;
  let broken: Error | undefined;
  const keep = (error: unknown) => {
    broken ??= error instanceof Error ? error : new Error(String(error));
  };
  try {
    await acquire(client, key, options.waitMs ?? 30_000);
    try {
      return await work(client);
    } finally {
      await client.query(`select pg_advisory_unlock(${LOCK_KEY})`, [key]).catch(keep);
    }
  } finally {
    // A connection that may still hold the lock is destroyed, never pooled.
    client.release(broken);
  }
}

async function acquire(client: pg.PoolClient, key: string, waitMs: number): Promise<void> {
  // Uncontended (the usual case: one process per niche at a time) it takes one round trip.
  const { rows } = await client.query<{ locked: boolean }>(`select pg_try_advisory_lock(${LOCK_KEY}) as locked`, [key]);
  if (rows[0]?.locked) return;
  // lock_timeout bounds the wait for an advisory lock too; it is reset before the client goes back.
  await client.query(`select set_config('lock_timeout', $1, false)`, [`${waitMs}ms`]);
  try {
    await client.query(`select pg_advisory_lock(${LOCK_KEY})`, [key]);
  } finally {
    await client.query(`select set_config('lock_timeout', '0', false)`);
  }
}
