import type pg from 'pg';

export interface InboxOptions {
  /** Table of processed message keys, `name` or `schema.name` (default `messaging_inbox`). */
  table?: string;
}

export type OnceResult<R> = { applied: true; value: R } | { applied: false };

export interface Inbox {
  /** Creates the table if missing; safe to run at every start-up. */
  migrate(): Promise<void>;
  /**
   * Runs `effect` and records (consumer, messageId) in the same transaction, unless that
   * key is already recorded. A redelivered message thus applies its effect once: the
   * effect and the record commit together or not at all. A concurrent duplicate waits
   * on the first one's row lock and then skips.
   */
  once<R>(consumer: string, messageId: string, effect: (client: pg.PoolClient) => Promise<R>): Promise<OnceResult<R>>;
  /** Whether the key has been recorded. */
  has(consumer: string, messageId: string): Promise<boolean>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** An inbox of processed message keys in PostgreSQL, for idempotent consumers. */
export function createInbox(pool: pg.Pool, options: InboxOptions = {}): Inbox {
  const table = quoteTable(options.table ?? 'messaging_inbox');
  return {
    migrate: async () => {
      await pool.query(
        `create table if not exists ${table} (
           consumer text not null,
           message_id text not null,
           processed_at timestamptz not null default now(),
           primary key (consumer, message_id)
         )`,
      );
    },
    once: async <R>(consumer: string, messageId: string, effect: (client: pg.PoolClient) => Promise<R>): Promise<OnceResult<R>> => {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('begin');
        const claimed = await client.query(`insert into ${table} (consumer, message_id) values ($1, $2) on conflict do nothing`, [consumer, messageId]);
        if (claimed.rowCount === 0) {
          await client.query('rollback');
          return { applied: false };
        }
        const value = await effect(client);
        await client.query('commit');
        return { applied: true, value };
      } catch (error) {
        // A connection that cannot even roll back is discarded, not returned to the pool.
        await client.query('rollback').catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      } finally {
        client.release(broken);
      }
    },
    has: async (consumer, messageId) => {
      const { rowCount } = await pool.query(`select 1 from ${table} where consumer = $1 and message_id = $2`, [consumer, messageId]);
      return (rowCount ?? 0) > 0;
    },
  };
}

// A table name cannot be a bound parameter; it is checked against a strict pattern instead.
function quoteTable(name: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new Error(`invalid inbox table name: ${JSON.stringify(name)}`);
  }
  return parts.map((p) => `"${p}"`).join('.');
}
