/**
 * How a command waits its turn on a stream, beside the optimistic check every append makes.
 *
 * - `none`: only the expected-version check; a loser of a race re-reads and re-decides.
 * - `keyedMutex`: commands of one key run one at a time in this process (arrival order),
 *   so they queue in memory instead of losing races on the database.
 * - `advisory`: a PostgreSQL transaction-level advisory lock on the key, so instances that
 *   share the database take turns too; the state read after taking it is the latest.
 * - `row`: `select … for update` of the rows that hold the aggregate's snapshot (billing's
 *   wallet rows): the lock and the state's source in one statement.
 *
 * In-process queueing (a KeyedMutex, and a Semaphore bounding the transactions in flight)
 * combines with any of them — `handleCommand`'s `inProcess` option — which is what a
 * service wants under load: its own commands on one key queue in memory without holding
 * connections, and other instances are kept out by the database.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';

export type LockStrategy =
  | { kind: 'none' }
  | { kind: 'advisory'; key: string }
  | { kind: 'row'; sql: string; params: readonly unknown[] };

export const noLock: LockStrategy = Object.freeze({ kind: 'none' });

/** A transaction-level advisory lock on `key` (hashed to 64 bits by PostgreSQL). */
export const advisoryLock = (key: string): LockStrategy => ({ kind: 'advisory', key });

/** Row locks taken by `sql` (which must end in `for update`); its rows reach the loader. */
export const rowLock = (sql: string, params: readonly unknown[]): LockStrategy => {
  if (!/\bfor\s+(no\s+key\s+)?update\b/i.test(sql)) throw new Error('a row lock needs a query that ends in FOR UPDATE');
  return { kind: 'row', sql, params };
};

/** A row lock's statement name, from its text (a name stands for one text on a connection). */
const rowLockName = (sql: string): string => `event_sourcing.row_lock.${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`;

/** Whether the strategy needs a transaction of its own (database locks do; `none` does not). */
export const needsTransaction = (lock: LockStrategy): boolean => lock.kind !== 'none';

/** Takes the lock inside the open transaction on `tx`; returns the locked rows for `row`. */
export async function takeLock(tx: pg.ClientBase, lock: LockStrategy): Promise<readonly Record<string, unknown>[]> {
  switch (lock.kind) {
    case 'none':
      return [];
    case 'advisory':
      // Released by commit or rollback.
      // Named statements (here and below): parsed and planned once per connection.
      await tx.query({ name: 'event_sourcing.advisory_xact_lock', text: 'select pg_advisory_xact_lock(hashtextextended($1, 0))', values: [lock.key] });
      return [];
    case 'row': {
      const { rows } = await tx.query<Record<string, unknown>>({ name: rowLockName(lock.sql), text: lock.sql, values: [...lock.params] });
      return rows;
    }
  }
}

/** Runs tasks one at a time per key, in arrival order; different keys run in parallel. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/** At most `limit` tasks at once; the others wait in arrival order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`a semaphore needs a positive limit, got ${limit}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * A session-level advisory lock held across autocommit statements instead of a transaction
 * (handleCommand's `sessionLock`): taken by one statement, handed over by the statement that
 * writes to that statement's own transaction, so it ends with that commit. The key is hashed
 * as advisoryLock's is, so a session holder and a transaction holder of one key exclude each
 * other. Session locks survive a rollback and go back to the pool with the connection: on
 * any error while one may be held, releaseSessionLocks, and a connection that cannot even do
 * that is destroyed (closing the session releases its locks).
 */
export interface SessionLock {
  key: string;
  /**
   * The loader takes the lock itself, in the statement that reads (LoadContext.session):
   * `pg_advisory_lock(hashtextextended(key, 0))` first thing in a VOLATILE function whose
   * reads are statements of their own, so each takes a snapshot after the lock and sees
   * what the last holder committed (one statement holding the lock call and the read would
   * read with the snapshot taken before it waited). Default: a statement of its own takes it.
   */
  takenByLoad?: boolean;
}

/** The SQL of an advisory lock's 64-bit key from its text (`placeholder` binds the text): the hash every lock of this module uses. */
export const advisoryKeySql = (placeholder: string): string => `hashtextextended(${placeholder}, 0)`;

/** Takes the session-level lock on `key` (waits for it). */
export async function takeSessionLock(client: pg.ClientBase, key: string): Promise<void> {
  await client.query({ name: 'event_sourcing.advisory_session_lock', text: `select pg_advisory_lock(${advisoryKeySql('$1')})`, values: [key] });
}

/** Releases the session-level lock on `key`, held by this session. */
export async function releaseSessionLock(client: pg.ClientBase, key: string): Promise<void> {
  await client.query({ name: 'event_sourcing.advisory_session_unlock', text: `select pg_advisory_unlock(${advisoryKeySql('$1')})`, values: [key] });
}

/** Releases every session-level advisory lock of the session (none held: a no-op); for error paths, where what is held is not known. */
export async function releaseSessionLocks(client: pg.ClientBase): Promise<void> {
  await client.query({ name: 'event_sourcing.advisory_unlock_all', text: 'select pg_advisory_unlock_all()' });
}

/**
 * An SQL expression that hands the session-level lock on the key bound at `placeholder` over
 * to the statement's own transaction: the key taken again at transaction level (granted at
 * once: this session holds it), then the session-level hold released. The key stays held
 * until the transaction ends, so whoever takes it next reads what the transaction wrote (a
 * session-level unlock alone takes effect at once, before the commit). CASE evaluates its
 * condition first: the order is guaranteed. True when the session held the lock.
 */
export const handOverSessionLockSql = (placeholder: string): string =>
  `(case when pg_advisory_xact_lock(${advisoryKeySql(placeholder)}) is null then null else pg_advisory_unlock(${advisoryKeySql(placeholder)}) end)`;
