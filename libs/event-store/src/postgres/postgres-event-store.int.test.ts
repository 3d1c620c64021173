/**
 * The EventStore contract suite, run against the PostgreSQL adapter on a database of
 * this file's own. Subscriptions poll only once a minute here, so every live delivery in
 * the suite proves the LISTEN/NOTIFY path or the quick re-poll of held-back events.
 */
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { describeEventStoreContract } from '@fairlead/event-store/contract';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';

let db: TestDatabase;
let transactional: PostgresEventStore;

beforeAll(async () => {
  db = await createTestDatabase('es_contract');
  transactional = createPostgresEventStore({ pool: db.pool });
  await transactional.migrate();
});
afterAll(async () => {
  await transactional.close();
  await db.drop();
});

describeEventStoreContract('PostgreSQL', () => createPostgresEventStore({ connectionString: db.url, pollIntervalMs: 60_000 }), {
  ordersByTransaction: true,
  openTransaction: async () => {
    const client = await db.pool.connect();
    await client.query('begin');
    // Take the transaction id now, before anyone else appends.
    await client.query('select pg_current_xact_id()');
    const end = async (sql: string) => {
      try {
        await client.query(sql);
      } finally {
        client.release();
      }
    };
    return {
      append: (stream, events, expected) => transactional.appendInTransaction(client, stream, events, expected),
      commit: () => end('commit'),
      rollback: () => end('rollback'),
    };
  },
  holdIdleTransaction: async () => {
    const client = await db.pool.connect();
    await client.query('begin');
    await client.query('select pg_current_xact_id()');
    return {
      release: async () => {
        try {
          await client.query('rollback');
        } finally {
          client.release();
        }
      },
    };
  },
});
