/**
 * A pass reads the niche's subscriptions while rotation answers its claims
 * (subscriptionsOfNiche, by the levels fairness.levels knows for the niche) instead of after
 * them (subscriptionsOfLevels, by the levels of the claims' traversals). The early read must
 * be that read exactly, and a level it cannot hold — one this service's read model does not
 * know yet — must send the pass back to the read by level.
 */
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

async function distribute(niche: string, leads: string[]) {
  const inputs: DistributeLeadInput[] = [];
  for (const id of leads) {
    await h.approveLead(id, niche);
    const requested = (await h.leadEvents(id)).findLast((e) => e.type === 'DistributionRequested')!;
    inputs.push({ request: requested.data as DistributionEventData<'DistributionRequested'>, attempt: 1 });
  }
  const outcomes = await distributeBatch(deps, niche, inputs);
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
