/**
 * A service's pool keeps its connection between the queries of an idle service (readiness
 * every 10 s, the log's safety-net poll up to every 10 s): pg's default closed it after 10 s
 * idle, so each of them connected again (a backend forked, a SCRAM exchange on both sides).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { databasePool } from './database';

describe('a service pool', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('platform_pool');
  });
  afterAll(() => db.drop());

  it('answers a query 11 s after the last one on the same backend, not on a new connection', async () => {
    const pool = new pg.Pool(databasePool({ DATABASE_URL: db.url }, 4));
    try {
      const backend = async () => (await pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
      const first = await backend();
      // Longer than the idle service's longest quiet spell (10 s); the time itself is what is tested.
      await new Promise((r) => setTimeout(r, 11_000));
      expect(pool.idleCount).toBe(1);
      expect(await backend()).toBe(first);
    } finally {
      await pool.end();
    }
  }, 30_000);
});
