/** handleCommandOnStreams against the real PostgreSQL event store: one decision over several streams. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { handleCommand, loadStream, type CommandHandlingDeps, type Loaded } from './handle-command';
import { handleCommandOnStreams } from './handle-streams';
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
