/**
 * A pass's round trips on the niche lock's connection. It reads the niche's subscriptions
 * while rotation answers its claims (subscriptionsOfNiche, by the levels fairness.levels
 * knows for the niche) instead of after them (subscriptionsOfLevels, by the levels of the
 * claims' traversals): the early read must be that read exactly, and a level it cannot hold
 * — one this service's read model does not know yet — must send the pass back to the read
 * by level. Its last write takes the niche's lock along to its commit: no unlock follows,
 * and the lock is free once the pass is over.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DistributionEventData } from '@fairlead/contracts';
import { subscriptionsOfLevels, subscriptionsOfNiche } from '../projections/subscriptions/subscriptions.projection';
import type { StatsRead } from '../projections/subscription-stats/subscription-stats';
import type { FairnessService } from '../service';
import { level, startHarness, type Harness } from '../testing/harness';
import { distributeBatch, type DistributeLeadDeps, type DistributeLeadInput } from './distribute-batch';

let h: Harness;
let service: FairnessService;
let deps: DistributeLeadDeps;

beforeAll(async () => {
  // No relay: the test decides the leads itself.
  h = await startHarness('fairness_early_subs', { relay: false });
  service = await h.startService();
  deps = h.distributeDeps();
});
afterAll(async () => h?.close());

async function market(niche: string, levels: number, providersPerLevel: number): Promise<void> {
  await h.seedNiche(
    niche,
    Array.from({ length: levels }, (_, i) => level(niche, i + 1, 1, 100)),
  );
  for (let l = 1; l <= levels; l++) {
    for (let p = 1; p <= providersPerLevel; p++) {
      h.billing.fund(`${niche}-l${l}-p${p}`, 1_000_000);
      await h.subscribe({ provider_id: `${niche}-l${l}-p${p}`, niche_id: niche, level_id: `${niche}-l${l}` });
    }
  }
  await service.caughtUp();
}

async function distribute(niche: string, leads: string[], using: DistributeLeadDeps = deps) {
  const inputs: DistributeLeadInput[] = [];
  for (const id of leads) {
    await h.approveLead(id, niche);
    const requested = (await h.leadEvents(id)).findLast((e) => e.type === 'DistributionRequested')!;
    inputs.push({ request: requested.data as DistributionEventData<'DistributionRequested'>, attempt: 1 });
  }
  const outcomes = await distributeBatch(using, niche, inputs);
  return outcomes.map((o) => {
    if (!o.ok) throw o.error;
    return o.completed;
  });
}

describe('the early read of a niche’s subscriptions', () => {
  it('is the read by the levels of the niche, stats rows included', async () => {
    await market('e1', 3, 3);
    // Some served history, so the stats rows and the order are not all alike.
    await distribute('e1', ['e1-a', 'e1-b', 'e1-c', 'e1-d']);
    const early: StatsRead = new Map();
    const byLevel: StatsRead = new Map();
    const ofNiche = await subscriptionsOfNiche(h.db.pool, 'e1', early);
    const ofLevels = await subscriptionsOfLevels(h.db.pool, ['e1-l1', 'e1-l2', 'e1-l3'], byLevel);
    expect([...ofNiche.keys()].sort()).toEqual(['e1-l1', 'e1-l2', 'e1-l3']);
    expect(ofNiche).toEqual(ofLevels);
    expect(early).toEqual(byLevel);
    // Four leads, one provider per level each: every one of the nine subscriptions served at least once.
    expect([...early.values()].filter((row) => row !== null)).toHaveLength(9);
  });

  it('lacks a level fairness.levels does not know, and a pass then reads by level and assigns there as well', async () => {
    await market('e2', 2, 2);
    // As if the level's CompetitionLevelAdded had not reached this service's read model yet.
    await h.db.pool.query(`delete from fairness.levels where level_id = 'e2-l2'`);
    const ofNiche = await subscriptionsOfNiche(h.db.pool, 'e2');
    expect([...ofNiche.keys()]).toEqual(['e2-l1']);
    const [outcome] = await distribute('e2', ['e2-a']);
    expect(outcome!.assignments.map((a) => a.level_id).sort()).toEqual(['e2-l1', 'e2-l2']);
  });
});

/** deps whose pool records the statements sent on each connection it hands out (the lock's is the first). */
function recordingDeps(): { deps: DistributeLeadDeps; connections: string[][] } {
  const connections: string[][] = [];
  const pool = deps.pool;
  const recording = Object.create(pool) as pg.Pool;
  recording.connect = (async () => {
    const client = await pool.connect();
    const sent: string[] = [];
    connections.push(sent);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    return Object.assign(Object.create(client) as pg.PoolClient, {
      query: (...args: unknown[]) => {
        const first = args[0] as string | { text: string };
        sent.push(typeof first === 'string' ? first : first.text);
        return query(...args);
      },
      release: (error?: Error | boolean) => client.release(error),
    });
  }) as never;
  return { deps: { ...deps, pool: recording }, connections };
}

/** Is the niche's lock held by any session? */
async function nicheLockHeld(niche: string): Promise<boolean> {
  const { rows } = await h.db.pool.query<{ held: boolean }>(
    `select exists (select 1 from pg_locks l where l.locktype = 'advisory' and l.objsubid = 1
        and ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)) as held`,
    [`fairness:niche:${niche}`],
  );
  return rows[0]!.held;
}

describe('a pass of fresh leads on the lock’s connection', () => {
  it('takes the lock, reads the subscriptions, writes the picks, then the outcome with the lock handed over: no unlock', async () => {
    await market('e3', 2, 2);
    const { deps: recorded, connections } = recordingDeps();
    const outcomes = await distribute('e3', ['e3-a', 'e3-b'], recorded);
    expect(outcomes.map((o) => o.assignments.length)).toEqual([2, 2]);
    const [lockConnection] = connections;
    const kinds = lockConnection!.map((text) =>
      text.includes('pg_try_advisory_lock')
        ? 'lock'
        : text.includes('pg_advisory_unlock(') && !text.includes('append_batch')
          ? 'unlock'
          : text.includes('fairness.subscriptions')
            ? 'subscriptions'
            : text.includes('pg_advisory_xact_lock')
              ? 'write, lock handed over'
              : text.includes('append_batch')
                ? 'write'
                : text,
    );
    expect(kinds).toEqual(['lock', 'subscriptions', 'write', 'write, lock handed over']);
    expect(await nicheLockHeld('e3')).toBe(false);
  });
});
