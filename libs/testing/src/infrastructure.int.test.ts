import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testNatsConnection, type TestDatabase } from './index';

describe('test infrastructure', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('infra');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('gives each file its own empty PostgreSQL database', async () => {
    const { rows } = await db.pool.query<{ name: string; tables: string }>(
      `select current_database() as name,
              (select count(*) from information_schema.tables where table_schema = 'public')::text as tables`,
    );
    expect(rows[0]?.name).toMatch(/^infra_[0-9a-f]{12}$/);
    expect(rows[0]?.tables).toBe('0');
  });

  it('runs a real nats-server with JetStream enabled', async () => {
    const nc = await testNatsConnection({ identity: 'admin' });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.getAccountInfo();
      expect(info.limits).toBeDefined();
      expect(nc.info?.jetstream).toBe(true);
    } finally {
      await nc.close();
    }
  });
});
