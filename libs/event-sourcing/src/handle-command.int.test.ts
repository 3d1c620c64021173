/** handleCommand against the real PostgreSQL event store, with real concurrency. */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConcurrencyError, createPostgresEventStore, type AppendStatement, type PostgresEventStore } from '@fairlead/event-store';
import { createTestDatabase, waitFor, type TestDatabase } from '@fairlead/testing';
import { handleCommand, loadStream, type CommandHandlingDeps, type LoadContext, type Loaded } from './handle-command';
import { advisoryLock, KeyedMutex, rowLock, Semaphore } from './locks';
import { TooManyConflictsError } from './errors';
import { accountDecider, AccountRefused, type AccountCommand, type AccountState } from './testing/account.fixture';

const stream = () => `account-${randomUUID()}`;
const withdraw = (amount: number): AccountCommand => ({ type: 'withdraw', amount });

describe('handleCommand', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let deps: CommandHandlingDeps;
  beforeAll(async () => {
    db = await createTestDatabase('es_kernel');
    store = createPostgresEventStore({ pool: db.pool, pollIntervalMs: 60_000 });
    await store.migrate();
    await db.pool.query('create table accounts (stream text primary key, balance integer not null check (balance >= 0), version integer not null)');
    await db.pool.query('create table side_rows (stream text not null, note text not null)');
    deps = { store, pool: db.pool };
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  async function openWith(s: string, balance: number): Promise<void> {
    await handleCommand(deps, s, accountDecider, { type: 'open', owner: 'ada' });
    if (balance > 0) await handleCommand(deps, s, accountDecider, { type: 'deposit', amount: balance });
  }

  it('decides on the stream, appends with metadata, and answers the new state and version', async () => {
    const s = stream();
    const opened = await handleCommand(deps, s, accountDecider, { type: 'open', owner: 'ada' }, { metadata: { actor: 'test' } });
    expect(opened).toMatchObject({ version: 0, appended: 1, state: { status: 'open', balance: 0 }, before: { status: 'none' } });
    const deposited = await handleCommand(deps, s, accountDecider, { type: 'deposit', amount: 70 });
    expect(deposited).toMatchObject({ version: 1, appended: 1, state: { balance: 70 } });
    const stored = await store.readStream(s);
    expect(stored.map((e) => [e.type, e.metadata.actor])).toEqual([
      ['Opened', 'test'],
      ['Deposited', undefined],
    ]);
  });

  it('a decision of no events appends nothing; a refusal is thrown as the decider threw it and appends nothing', async () => {
    const s = stream();
    await openWith(s, 0);
    expect(await handleCommand(deps, s, accountDecider, { type: 'open', owner: 'ada' })).toMatchObject({ events: [], appended: 0, version: 0 });
    await expect(handleCommand(deps, s, accountDecider, withdraw(1))).rejects.toBeInstanceOf(AccountRefused);
    expect(await store.streamVersion(s)).toBe(0);
  });

  it('a deterministic event id makes a repeated command a no-op that answers the stored state', async () => {
    const s = stream();
    await openWith(s, 0);
    const id = randomUUID();
    const first = await handleCommand(deps, s, accountDecider, { type: 'deposit', amount: 5, id });
    // The repeat decides the same event on a state that already holds it: the store recognises the id.
    const loaded = await loadStream(store, s, accountDecider);
    const repeat = await handleCommand(deps, s, accountDecider, { type: 'deposit', amount: 5, id }, {
      // Decides on the state before the deposit, as a retry after a lost reply would.
      load: async ({ afterConflict }): Promise<Loaded<AccountState>> => (afterConflict ? loaded : { version: 0, state: { status: 'open', owner: 'ada', balance: 0 } }),
    });
    expect(first.appended).toBe(1);
    expect(repeat).toMatchObject({ appended: 0, version: 1 });
    expect((await loadStream(store, s, accountDecider)).state).toEqual({ status: 'open', owner: 'ada', balance: 5 });
  });

  it('racing commands re-read and re-decide: never overdrawn, every command decided on the latest state', async () => {
    const s = stream();
    await openWith(s, 100);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => handleCommand(deps, s, accountDecider, withdraw(10), { maxConflicts: 100 })));
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect(refused).toHaveLength(10);
    for (const reason of refused) expect(reason).toMatchObject({ code: 'INSUFFICIENT' });
    expect((await loadStream(store, s, accountDecider)).state).toMatchObject({ balance: 0 });
  });

  it('the caller’s expected version is checked before deciding and its conflict is never retried', async () => {
    const s = stream();
    await openWith(s, 10);
    let decisions = 0;
    const counting = { ...accountDecider, decide: (c: AccountCommand, st: AccountState) => (decisions++, accountDecider.decide(c, st)) };
    await expect(handleCommand(deps, s, counting, withdraw(1), { expectedVersion: 0 })).rejects.toBeInstanceOf(ConcurrencyError);
    expect(decisions).toBe(0);
    await expect(handleCommand(deps, s, counting, withdraw(1), { expectedVersion: 'no_stream' })).rejects.toMatchObject({ expected: 'no_stream', actual: 1 });
    expect(await handleCommand(deps, s, counting, withdraw(1), { expectedVersion: 1 })).toMatchObject({ version: 2 });
  });

  it('gives up with TooManyConflictsError after maxConflicts lost races', async () => {
    const s = stream();
    await openWith(s, 10);
    let loads = 0;
    // A loader that always answers a stale version: every append loses its race.
    const stale = async (): Promise<Loaded<AccountState>> => (loads++, { state: { status: 'open', owner: 'ada', balance: 10 }, version: 0 });
    const error = await handleCommand(deps, s, accountDecider, withdraw(1), { load: stale, maxConflicts: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyConflictsError);
    expect(error).toMatchObject({ code: 'TOO_MANY_CONFLICTS', attempts: 4, stream: s });
    expect(loads).toBe(4);
  });

  it('rows alongside commit with the append, and a failure among them rolls the append back', async () => {
    const s = stream();
    await openWith(s, 10);
    const note = (text: string) => async (tx: pg.ClientBase) => void (await tx.query('insert into side_rows (stream, note) values ($1, $2)', [s, text]));
    await handleCommand(deps, s, accountDecider, withdraw(1), { alongside: note('kept') });
    await expect(
      handleCommand(deps, s, accountDecider, withdraw(1), {
        alongside: async (tx) => {
          await note('rolled back')(tx);
          throw new Error('the side write failed');
        },
      }),
    ).rejects.toThrow('the side write failed');
    const { rows } = await db.pool.query('select note from side_rows where stream = $1', [s]);
    expect(rows.map((r) => r.note)).toEqual(['kept']);
    expect((await loadStream(store, s, accountDecider)).state).toMatchObject({ balance: 9 });
  });

  it('an advisory lock makes two instances take turns: no race is lost even with no retries allowed', async () => {
    const s = stream();
    await openWith(s, 40);
    const other = new pg.Pool({ connectionString: db.url, max: 10 });
    const otherStore = createPostgresEventStore({ pool: other, pollIntervalMs: 60_000 });
    try {
      const instances: CommandHandlingDeps[] = [deps, { store: otherStore, pool: other }];
      const results = await Promise.allSettled(
        Array.from({ length: 24 }, (_, i) => handleCommand(instances[i % 2]!, s, accountDecider, withdraw(2), { lock: advisoryLock(s), maxConflicts: 0 })),
      );
      const reasons = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { code?: string }] : []));
      expect(reasons.map((r) => r.code)).toEqual(['INSUFFICIENT', 'INSUFFICIENT', 'INSUFFICIENT', 'INSUFFICIENT']);
      expect((await loadStream(store, s, accountDecider)).state).toMatchObject({ balance: 0 });
    } finally {
      await otherStore.close();
      await other.end();
    }
  });

  it('an in-process keyed mutex queues this process’s commands per key: no race is lost with no retries allowed', async () => {
    const s = stream();
    await openWith(s, 30);
    const mutex = new KeyedMutex();
    const slots = new Semaphore(2);
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => handleCommand(deps, s, accountDecider, withdraw(3), { inProcess: { mutex, slots }, maxConflicts: 0 })));
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['INSUFFICIENT', 'INSUFFICIENT']);
  });

  describe('a session lock: the command as autocommit statements, the lock handed over to the append’s transaction', () => {
    /** Advisory locks held in this database now, by anyone. */
    const advisoryLocksHeld = async () =>
      Number(
        (await db.pool.query<{ n: string }>(`select count(*) as n from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`))
          .rows[0]!.n,
      );
    /** A loader that takes the session lock itself, on the command's connection, before it reads (takenByLoad). */
    const lockingLoad =
      (s: string) =>
      async ({ session }: LoadContext): Promise<Loaded<AccountState>> => {
        if (session?.lockKey) await session.client.query('select pg_advisory_lock(hashtextextended($1, 0))', [session.lockKey]);
        return loadStream(store, s, accountDecider);
      };

    it.each([
      ['taken by a statement of its own', false],
      ['taken by the loader', true],
    ])('%s, makes two instances take turns: no race is lost with no retries allowed, and no lock is left', async (_how, takenByLoad) => {
      const s = stream();
      await openWith(s, 40);
      const other = new pg.Pool({ connectionString: db.url, max: 10 });
      const otherStore = createPostgresEventStore({ pool: other, pollIntervalMs: 60_000 });
      try {
        const instances: CommandHandlingDeps[] = [deps, { store: otherStore, pool: other }];
        const results = await Promise.allSettled(
          Array.from({ length: 24 }, (_, i) =>
            handleCommand(instances[i % 2]!, s, accountDecider, withdraw(2), { sessionLock: { key: s, takenByLoad }, ...(takenByLoad ? { load: lockingLoad(s) } : {}), maxConflicts: 0 }),
          ),
        );
        const reasons = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { code?: string }] : []));
        expect(reasons.map((r) => r.code)).toEqual(['INSUFFICIENT', 'INSUFFICIENT', 'INSUFFICIENT', 'INSUFFICIENT']);
        expect((await loadStream(store, s, accountDecider)).state).toMatchObject({ balance: 0 });
        // A decision of nothing releases it too.
        expect(await handleCommand(deps, s, accountDecider, { type: 'open', owner: 'ada' }, { sessionLock: { key: s } })).toMatchObject({ appended: 0 });
        expect(await advisoryLocksHeld()).toBe(0);
      } finally {
        await otherStore.close();
        await other.end();
      }
    });

    it('excludes a transaction holding the advisory lock on the same key, and is excluded by it', async () => {
      const s = stream();
      await openWith(s, 30);
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => handleCommand(deps, s, accountDecider, withdraw(3), i % 2 ? { sessionLock: { key: s }, maxConflicts: 0 } : { lock: advisoryLock(s), maxConflicts: 0 })),
      );
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['INSUFFICIENT', 'INSUFFICIENT']);
      expect(await advisoryLocksHeld()).toBe(0);
    });

    it('holds the lock until the append’s statement commits, not only until the hand-over', async () => {
      const s = stream();
      await openWith(s, 10);
      const probe = await db.pool.connect();
      try {
        const pending = handleCommand(deps, s, accountDecider, withdraw(1), {
          sessionLock: { key: s },
          // An unreferenced data-modifying CTE runs after the statement's select list (and so after the hand-over).
          alongsideStatement: () => ({ ctes: (param) => `slow as (insert into side_rows (stream, note) select ${param(s)}::text, 'slow' from pg_sleep(0.5))` }),
        });
        await waitFor(async () => (await db.pool.query(`select 1 from pg_stat_activity where wait_event = 'PgSleep' and query like '%side_rows%'`)).rows.length > 0, { what: 'the append statement sleeping' });
        expect((await probe.query<{ got: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as got', [s])).rows[0]!.got).toBe(false);
        await pending;
        expect((await probe.query<{ got: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as got', [s])).rows[0]!.got).toBe(true);
        await probe.query('select pg_advisory_unlock_all()');
      } finally {
        probe.release();
      }
    });

    it('writes rows alongside in the append’s statement, only when it wrote; a check that raises undoes both and releases the lock', async () => {
      const s = stream();
      await openWith(s, 10);
      const note =
        (text: string, check?: string) =>
        (): AppendStatement => ({
          ctes: (param) => `noted as (insert into side_rows (stream, note) select ${param(s)}::text, ${param(text)}::text where (select a.r_outcomes[1] from appended a) = 'ok' returning 1)`,
          ...(check ? { select: () => check } : {}),
        });
      await handleCommand(deps, s, accountDecider, withdraw(1), { sessionLock: { key: s }, alongsideStatement: note('kept') });
      await expect(handleCommand(deps, s, accountDecider, withdraw(1), { sessionLock: { key: s }, alongsideStatement: note('undone', '(select 1 / (count(*) - 1) from noted)') })).rejects.toMatchObject({
        code: '22012',
      });
      // A refusal after the lock was taken releases it as well.
      await expect(handleCommand(deps, s, accountDecider, withdraw(100), { sessionLock: { key: s }, alongsideStatement: note('refused') })).rejects.toBeInstanceOf(AccountRefused);
      const { rows } = await db.pool.query('select note from side_rows where stream = $1', [s]);
      expect(rows.map((r) => r.note)).toEqual(['kept']);
      expect((await loadStream(store, s, accountDecider)).state).toMatchObject({ balance: 9 });
      expect(await advisoryLocksHeld()).toBe(0);
      // The connections are usable: the next command takes the lock at once.
      await handleCommand(deps, s, accountDecider, withdraw(9), { sessionLock: { key: s }, maxConflicts: 0 });
    });
  });

  describe('a row lock over a snapshot row (state read from the row, rebuilt from the stream after a conflict)', () => {
    const lockAccount = (s: string) => rowLock('select balance, version from accounts where stream = $1 for update', [s]);
    const fromRow =
      (s: string) =>
      async ({ lockedRows, afterConflict }: { lockedRows: readonly Record<string, unknown>[]; afterConflict: boolean }): Promise<Loaded<AccountState>> => {
        const row = lockedRows[0] as { balance: number; version: number } | undefined;
        if (!row || afterConflict) return loadStream(store, s, accountDecider);
        return { state: { status: 'open', owner: 'ada', balance: row.balance }, version: row.version };
      };
    const saveRow = (s: string) => async (tx: pg.ClientBase, outcome: { state: AccountState; version: number }) => {
      const balance = outcome.state.status === 'open' ? outcome.state.balance : 0;
      await tx.query('update accounts set balance = $2, version = $3 where stream = $1', [s, balance, outcome.version]);
    };

    it('serializes racing commands on the row and keeps the row in step with the stream', async () => {
      const s = stream();
      await openWith(s, 50);
      await db.pool.query('insert into accounts (stream, balance, version) values ($1, 50, 1)', [s]);
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, () => handleCommand(deps, s, accountDecider, withdraw(5), { lock: lockAccount(s), load: fromRow(s), alongside: saveRow(s), maxConflicts: 0 })),
      );
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(2);
      const { rows } = await db.pool.query('select balance, version from accounts where stream = $1', [s]);
      expect(rows[0]).toEqual({ balance: 0, version: 11 });
      expect(await store.streamVersion(s)).toBe(11);
    });

    it('a row out of step with its stream loses the race once, then the state is rebuilt from the stream', async () => {
      const s = stream();
      await openWith(s, 50);
      await db.pool.query('insert into accounts (stream, balance, version) values ($1, 50, 1)', [s]);
      // Someone appended without the row: the row says version 1, balance 50; the stream says 2, 20.
      await handleCommand(deps, s, accountDecider, withdraw(30));
      const outcome = await handleCommand(deps, s, accountDecider, withdraw(15), { lock: lockAccount(s), load: fromRow(s), alongside: saveRow(s), maxConflicts: 1 });
      expect(outcome).toMatchObject({ version: 3, state: { balance: 5 } });
      const { rows } = await db.pool.query('select balance, version from accounts where stream = $1', [s]);
      expect(rows[0]).toEqual({ balance: 5, version: 3 });
    });
  });
});
