import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { MigrationError, runMigrations, type Migration } from './index';

describe('runMigrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('migrations');
  });
  afterAll(async () => {
    await db.drop();
  });

  const logged = (schema: string): Migration[] => [
    { version: 2, name: 'second', sql: `insert into ${schema}.log (step) values ('two')` },
    { version: 1, name: 'first', sql: `create table ${schema}.log (step text not null); insert into ${schema}.log (step) values ('one')` },
  ];
  const steps = async (schema: string) => (await db.pool.query<{ step: string }>(`select step from ${schema}.log order by step`)).rows.map((r) => r.step);

  it('applies pending versions in order, records them, and applies nothing the second time', async () => {
    expect(await runMigrations(db.pool, { schema: 'm_order', table: 'migrations', migrations: logged('m_order') })).toEqual({ applied: [1, 2] });
    expect(await runMigrations(db.pool, { schema: 'm_order', table: 'migrations', migrations: logged('m_order') })).toEqual({ applied: [] });
    const more = [...logged('m_order'), { version: 3, name: 'third', sql: `insert into m_order.log (step) values ('three')` }];
    expect(await runMigrations(db.pool, { schema: 'm_order', table: 'migrations', migrations: more })).toEqual({ applied: [3] });
    expect(await steps('m_order')).toEqual(['one', 'three', 'two']);
    const { rows } = await db.pool.query('select version, name from m_order.migrations order by version');
    expect(rows).toEqual([
      { version: 1, name: 'first' },
      { version: 2, name: 'second' },
      { version: 3, name: 'third' },
    ]);
  });

  it('concurrent runners (separate connections) apply each version exactly once', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => runMigrations(db.pool, { schema: 'm_race', table: 'migrations', migrations: logged('m_race') })));
    expect(results.flatMap((r) => r.applied).sort()).toEqual([1, 2]);
    expect(await steps('m_race')).toEqual(['one', 'two']);
  });

  it('a failing migration rolls back alone and is not recorded; the ones before it stay', async () => {
    const migrations = [
      ...logged('m_fail'),
      { version: 3, name: 'broken', sql: `insert into m_fail.log (step) values ('three'); select no_such_function()` },
    ];
    const error = await runMigrations(db.pool, { schema: 'm_fail', table: 'migrations', migrations }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).code).toBe('MIGRATION_FAILED');
    expect(await steps('m_fail')).toEqual(['one', 'two']);
    const { rows } = await db.pool.query<{ version: number }>('select version from m_fail.migrations order by version');
    expect(rows.map((r) => r.version)).toEqual([1, 2]);
  });

  it('refuses an applied version whose SQL changed, and malformed lists', async () => {
    await runMigrations(db.pool, { schema: 'm_changed', table: 'migrations', migrations: logged('m_changed') });
    const edited = logged('m_changed').map((m) => (m.version === 2 ? { ...m, sql: `${m.sql} -- edited` } : m));
    await expect(runMigrations(db.pool, { schema: 'm_changed', table: 'migrations', migrations: edited })).rejects.toMatchObject({
      code: 'MIGRATION_CHANGED',
    });
    const twice = [...logged('m_bad'), { version: 2, name: 'again', sql: 'select 1' }];
    await expect(runMigrations(db.pool, { schema: 'm_bad', table: 'migrations', migrations: twice })).rejects.toMatchObject({ code: 'MIGRATION_INVALID' });
    await expect(runMigrations(db.pool, { schema: 'm_bad', table: 'bad-name', migrations: [] })).rejects.toThrow(TypeError);
  });
});
