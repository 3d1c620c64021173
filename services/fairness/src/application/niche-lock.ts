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

/**
 * Runs `work` holding the niche's lock on a dedicated connection, which `work` may use
 * for its own queries. If the process dies, PostgreSQL ends the session and the lock goes with it.
 */
export async function withNicheLock<T>(pool: pg.Pool, nicheId: string, work: (client: pg.PoolClient) => Promise<T>, options: NicheLockOptions = {}): Promise<T> {
  const client = await pool.connect();
  const key = `fairness:niche:${nicheId}`;
  let broken: Error | undefined;
  try {
    // lock_timeout bounds the wait for an advisory lock too; it is reset before the client goes back.
    await client.query(`select set_config('lock_timeout', $1, false)`, [`${options.waitMs ?? 30_000}ms`]);
    await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [key]);
    try {
      return await work(client);
    } finally {
      await client.query('rollback').catch(() => undefined);
      await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch((error: unknown) => {
        broken = error instanceof Error ? error : new Error(String(error));
      });
    }
  } finally {
    await client.query(`select set_config('lock_timeout', '0', false)`).catch((error: unknown) => {
      broken ??= error instanceof Error ? error : new Error(String(error));
    });
    // A connection that may still hold the lock is destroyed, never pooled.
    client.release(broken);
  }
}
