import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInbox, type Inbox } from './inbox';

describe('inbox (idempotent consumer on PostgreSQL)', () => {
  let db: TestDatabase;
  let inbox: Inbox;
  beforeAll(async () => {
    db = await createTestDatabase('inbox');
    inbox = createInbox(db.pool, { table: 'processed_messages' });
    await inbox.migrate();
    await inbox.migrate(); // safe to run at every start
    await db.pool.query('create table effects (message_id text not null)');
  });
  afterAll(async () => {
    await db.drop();
  });

  const apply = (id: string) => (client: pg.PoolClient) => client.query('insert into effects (message_id) values ($1)', [id]).then(() => id);
  const effects = async (id: string) => Number((await db.pool.query('select count(*) from effects where message_id = $1', [id])).rows[0].count);

  it('applies an effect once per (consumer, message id); a redelivery is skipped', async () => {
    expect(await inbox.once('billing', 'm-1', apply('m-1'))).toEqual({ applied: true, value: 'm-1' });
    expect(await inbox.once('billing', 'm-1', apply('m-1'))).toEqual({ applied: false });
    expect(await effects('m-1')).toBe(1);
    // Another consumer has its own record of the same message.
    expect((await inbox.once('notification', 'm-1', apply('m-1'))).applied).toBe(true);
    expect(await inbox.has('billing', 'm-1')).toBe(true);
  });

  it('lets exactly one of concurrent duplicates apply', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => inbox.once('billing', 'm-2', apply('m-2'))));
    expect(results.filter((r) => r.applied)).toHaveLength(1);
    expect(await effects('m-2')).toBe(1);
  });

  it('records nothing when the effect fails, so the retry applies it', async () => {
    await expect(
      inbox.once('billing', 'm-3', async (client) => {
        await apply('m-3')(client);
        throw new Error('downstream failed after the insert');
      }),
    ).rejects.toThrow('downstream failed');
    expect(await inbox.has('billing', 'm-3')).toBe(false);
    expect(await effects('m-3')).toBe(0);
    expect((await inbox.once('billing', 'm-3', apply('m-3'))).applied).toBe(true);
    expect(await effects('m-3')).toBe(1);
  });

  it('refuses a table name that is not a plain identifier', () => {
    expect(() => createInbox(db.pool, { table: 'x; drop table effects' })).toThrow(/invalid inbox table name/);
  });
});
