/**
 * Leads of one niche are decided one at a time, so that the least-recently-served order
 * each one reads includes the previous lead's assignments. Within a process the consumer
 * queues messages per niche; across processes this session-level advisory lock does it.
 */
import type pg from 'pg';
import { advisoryKeySql, releaseSessionLock } from '@fairlead/event-sourcing';

export interface NicheLockOptions {
  /** Longest wait for another instance to release the niche; then the attempt fails and is retried. */
  waitMs?: number;
}

// The kernel's hash of a lock's text key: the last write hands this lock over with handOverSessionLockSql.
const LOCK_KEY = advisoryKeySql('$1');

/**
 * Runs `work` holding the niche's lock on a dedicated connection, which `work` may use
 * for its own queries (it must not leave a transaction open), then lets go of it — unless
 * `work`'s last write took it along to its commit (NicheLock.handedOver). If the process
 * dies, PostgreSQL ends the session and the lock goes with it.
 */
export async function withNicheLock<T>(pool: pg.Pool, nicheId: string, work: (client: pg.PoolClient, lock: NicheLock) => Promise<T>, options: NicheLockOptions = {}): Promise<T> {
  const client = await pool.connect();
  const key = `fairness:niche:${nicheId}`;
  let broken: Error | undefined;
  const keep = (error: unknown) => {
    broken ??= error instanceof Error ? error : new Error(String(error));
  };
  try {
    const lock: NicheLock = { key, taken: await acquire(client, key, options.waitMs ?? 30_000), handedOver: false };
    try {
      return await work(client, lock);
    } finally {
      if (!lock.handedOver) await releaseSessionLock(client, key).catch(keep);
    }
  } finally {
    // A connection that may still hold the lock is destroyed, never pooled.
    client.release(broken);
  }
}

/**
 * How the lock was taken: `free` when nobody held it at the first try (the usual case: one
 * process per niche at a time); `waited` when another session held it and this one waited
 * for it to end — that session's last writes committed just before.
 */
export type LockTaken = 'free' | 'waited';

/** The niche's lock as `work` holds it. */
export interface NicheLock {
  /** The lock's text key (hashed as the event-sourcing kernel's advisory locks are). */
  readonly key: string;
  readonly taken: LockTaken;
  /**
   * Set by `work` once a statement of its own handed the lock over to its transaction
   * (handOverSessionLockSql): the lock ended with that commit and `work` wrote nothing
   * after it; no unlock follows.
   */
  handedOver: boolean;
}

async function acquire(client: pg.PoolClient, key: string, waitMs: number): Promise<LockTaken> {
  // Uncontended it takes one round trip.
  const { rows } = await client.query<{ locked: boolean }>({ name: 'fairness.niche_try_lock', text: `select pg_try_advisory_lock(${LOCK_KEY}) as locked`, values: [key] });
  if (rows[0]?.locked) return 'free';
  // lock_timeout bounds the wait for an advisory lock too; it is reset before the client goes back.
  await client.query(`select set_config('lock_timeout', $1, false)`, [`${waitMs}ms`]);
  try {
    await client.query(`select pg_advisory_lock(${LOCK_KEY})`, [key]);
  } finally {
    await client.query(`select set_config('lock_timeout', '0', false)`);
  }
  return 'waited';
}
