/** handleCommandOnStreams against the real PostgreSQL event store: one decision over several streams. */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { handleCommand, loadStream, type CommandHandlingDeps, type Loaded } from './handle-command';
import { handleCommandOnStreams, type OneStatementPath, type StreamsOutcome } from './handle-streams';
import { KeyedMutex } from './locks';
import { TooManyConflictsError } from './errors';
import { accountDecider, AccountRefused, type AccountEvent, type AccountState } from './testing/account.fixture';

/** Withdraws `amount` from each account in order while it can; an account short of it is left alone and named. */
function withdrawFromEach(amount: number) {
  return (states: ReadonlyMap<string, Loaded<AccountState>>) => {
    const events = new Map<string, AccountEvent[]>();
    const short: string[] = [];
    for (const [stream, { state }] of states) {
      if (state.status !== 'open') throw new AccountRefused('NOT_OPEN', `${stream} is not open`);
      if (state.balance >= amount) events.set(stream, [{ type: 'Withdrawn', data: { amount } }]);
      else short.push(stream);
    }
    return { events, short };
  };
}

describe('handleCommandOnStreams', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let deps: CommandHandlingDeps;
  beforeAll(async () => {
    db = await createTestDatabase('es_streams');
    store = createPostgresEventStore({ pool: db.pool, pollIntervalMs: 60_000 });
    await store.migrate();
    await db.pool.query('create table withdrawals (stream text not null, amount integer not null)');
    // The check a one-statement write makes: refused (SQLSTATE ZZ001) unless every append wrote.
    await db.pool.query(`create function all_written(p_outcomes text[]) returns boolean language plpgsql as $$
      begin
        if exists (select 1 from unnest(p_outcomes) o where o is distinct from 'ok') then
          raise exception 'not all written: %', p_outcomes using errcode = 'ZZ001';
        end if;
        return true;
      end $$`);
    deps = { store, pool: db.pool };
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  async function account(balance: number): Promise<string> {
    const s = `account-${randomUUID()}`;
    await handleCommand(deps, s, accountDecider, { type: 'open', owner: 'ada' });
    if (balance > 0) await handleCommand(deps, s, accountDecider, { type: 'deposit', amount: balance });
    return s;
  }
  const balanceOf = async (s: string) => {
    const { state } = await loadStream(store, s, accountDecider);
    return state.status === 'open' ? state.balance : undefined;
  };

  it('decides once over every stream, appends each against its version, writes rows alongside, and answers the decision', async () => {
    const [a, b, c] = [await account(10), await account(3), await account(7)];
    const outcome = await handleCommandOnStreams(deps, [a, b, c], accountDecider, withdrawFromEach(5), {
      metadata: { actor: 'test' },
      alongside: async (tx, { written }) => {
        for (const s of written) await tx.query('insert into withdrawals (stream, amount) values ($1, 5)', [s]);
      },
    });
    expect(outcome.decision.short).toEqual([b]);
    expect(outcome.written).toEqual([a, c]);
    expect(outcome.appended).toBe(2);
    expect(outcome.after.get(a)).toEqual({ state: { status: 'open', owner: 'ada', balance: 5 }, version: 2 });
    expect(outcome.after.get(b)).toEqual(outcome.before.get(b));
    expect([await balanceOf(a), await balanceOf(b), await balanceOf(c)]).toEqual([5, 3, 2]);
    expect((await store.readStream(c)).at(-1)?.metadata).toMatchObject({ actor: 'test' });
    const { rows } = await db.pool.query('select stream from withdrawals where stream = any($1) order by stream', [[a, b, c]]);
    expect(rows.map((r) => r.stream)).toEqual([a, c].sort());
  });

  it('a refusal, or a failure of the rows alongside, writes nothing on any stream', async () => {
    const [a, b] = [await account(10), `account-${randomUUID()}`];
    await expect(handleCommandOnStreams(deps, [a, b], accountDecider, (states) => withdrawFromEach(1)(new Map([...states, [b, { state: { status: 'none' }, version: -1 }]])))).rejects.toBeInstanceOf(AccountRefused);
    await expect(
      handleCommandOnStreams(deps, [a], accountDecider, withdrawFromEach(1), {
        alongside: async () => {
          throw new Error('the side write failed');
        },
      }),
    ).rejects.toThrow('the side write failed');
    expect(await balanceOf(a)).toBe(10);
    expect(await store.streamVersion(a)).toBe(1);
  });

  it('racing batches over overlapping streams queue per stream in process: no race lost with no retries, never overdrawn', async () => {
    const accounts = [await account(20), await account(20), await account(20)];
    const mutex = new KeyedMutex();
    // Each batch names the accounts in another order: the keys are taken sorted, so no two batches wait on each other in a cycle.
    const batches = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? accounts : [...accounts].reverse()));
    const outcomes = await Promise.all(batches.map((streams) => handleCommandOnStreams(deps, streams, accountDecider, withdrawFromEach(4), { inProcess: { mutex }, maxConflicts: 0 })));
    expect(outcomes.reduce((sum, o) => sum + o.appended, 0)).toBe(15);
    for (const s of accounts) expect(await balanceOf(s)).toBe(0);
  });

  describe('oneStatement: a read, then one statement that writes everything, without a transaction', () => {
    type Withdrawals = ReturnType<ReturnType<typeof withdrawFromEach>>;
    /** Reads the streams (a stale version of `stale` when given), and writes the withdrawals rows in the append's statement; counts what ran. */
    function oneStatementPath(stale?: string) {
      const ran = { reads: 0, statements: 0 };
      const path: OneStatementPath<AccountState, Withdrawals> = {
        read: async (_db, streams) => {
          ran.reads++;
          const read = new Map<string, Loaded<AccountState>>();
          for (const s of streams) read.set(s, await loadStream(store, s, accountDecider));
          if (stale) read.set(stale, { state: { status: 'open', owner: 'ada', balance: 100 }, version: 0 });
          return read;
        },
        statement: (outcome: StreamsOutcome<AccountState, Withdrawals>) => {
          ran.statements++;
          return {
            ctes: (param) => `rows as (insert into withdrawals (stream, amount) select s, 5 from unnest(${param(outcome.written)}::text[]) s)`,
            select: () => 'all_written((select r_outcomes from appended))',
          };
        },
        refusal: 'ZZ001',
      };
      return { path, ran };
    }
    const rowsOf = async (streams: string[]) => (await db.pool.query('select stream from withdrawals where stream = any($1) order by stream', [streams])).rows.map((r) => r.stream as string);
    const transactional = { calls: 0 };
    const alongside = async (tx: pg.ClientBase, { written }: StreamsOutcome<AccountState, Withdrawals>) => {
      transactional.calls++;
      for (const s of written) await tx.query('insert into withdrawals (stream, amount) values ($1, 5)', [s]);
    };

    it('writes the events and the rows in one statement, and the transactional path never runs', async () => {
      const [a, b] = [await account(10), await account(3)];
      const { path, ran } = oneStatementPath();
      transactional.calls = 0;
      const outcome = await handleCommandOnStreams(deps, [a, b], accountDecider, withdrawFromEach(5), { oneStatement: path, alongside });
      expect({ ...ran, transactional: transactional.calls }).toEqual({ reads: 1, statements: 1, transactional: 0 });
      expect(outcome.written).toEqual([a]);
      expect(outcome.appended).toBe(1);
      expect([await balanceOf(a), await balanceOf(b)]).toEqual([5, 3]);
      expect(await rowsOf([a, b])).toEqual([a]);
    });

    it('a decision without events is answered from the read, with nothing written', async () => {
      const a = await account(3);
      const { path, ran } = oneStatementPath();
      transactional.calls = 0;
      const outcome = await handleCommandOnStreams(deps, [a], accountDecider, withdrawFromEach(5), { oneStatement: path, alongside });
      expect({ ...ran, transactional: transactional.calls }).toEqual({ reads: 1, statements: 0, transactional: 0 });
      expect(outcome.decision.short).toEqual([a]);
      expect(await store.streamVersion(a)).toBe(1);
    });

    it('a refused statement is undone whole (events and rows), and the transactional path decides again on what is stored', async () => {
      const [a, b] = [await account(10), await account(10)];
      // b read at a stale version: its append conflicts, and the statement with a's append and both rows is refused.
      const { path, ran } = oneStatementPath(b);
      transactional.calls = 0;
      const outcome = await handleCommandOnStreams(deps, [a, b], accountDecider, withdrawFromEach(5), { oneStatement: path, alongside });
      expect({ ...ran, transactional: transactional.calls }).toEqual({ reads: 1, statements: 1, transactional: 1 });
      expect(outcome.written).toEqual([a, b]);
      expect([await balanceOf(a), await balanceOf(b)]).toEqual([5, 5]);
      // Each stream withdrawn from once, each row written once (by the transactional path).
      for (const s of [a, b]) expect((await store.readStream(s)).filter((e) => e.type === 'Withdrawn')).toHaveLength(1);
      expect(await rowsOf([a, b])).toEqual([a, b].sort());
    });

    it('an outcome the statement declines (undefined) takes the transactional path', async () => {
      const a = await account(10);
      const { path } = oneStatementPath();
      transactional.calls = 0;
      await handleCommandOnStreams(deps, [a], accountDecider, withdrawFromEach(5), { oneStatement: { ...path, statement: () => undefined }, alongside });
      expect(transactional.calls).toBe(1);
      expect(await balanceOf(a)).toBe(5);
      expect(await rowsOf([a])).toEqual([a]);
    });
  });

  it('a lost race re-reads every stream and decides again; past maxConflicts it is TooManyConflictsError', async () => {
    const [a, b] = [await account(10), await account(10)];
    let loads = 0;
    // The first load answers a stale version of b (as a snapshot row out of step would); later loads read the streams.
    const staleOnce = async ({ afterConflict }: { afterConflict: boolean }) => {
      loads++;
      const read = new Map([
        [a, await loadStream(store, a, accountDecider)],
        [b, await loadStream(store, b, accountDecider)],
      ]);
      if (!afterConflict) read.set(b, { state: { status: 'open', owner: 'ada', balance: 10 }, version: 0 });
      return read;
    };
    const outcome = await handleCommandOnStreams(deps, [a, b], accountDecider, withdrawFromEach(2), { load: staleOnce, maxConflicts: 1 });
    expect(loads).toBe(2);
    expect(outcome.appended).toBe(2);
    expect([await balanceOf(a), await balanceOf(b)]).toEqual([8, 8]);

    const alwaysStale = async () => new Map([[b, { state: { status: 'open', owner: 'ada', balance: 10 } as AccountState, version: 0 }]]);
    const error = await handleCommandOnStreams(deps, [b], accountDecider, withdrawFromEach(2), { load: alwaysStale, maxConflicts: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyConflictsError);
    expect(error).toMatchObject({ attempts: 3 });
    expect(await balanceOf(a)).toBe(8);
  });
});
