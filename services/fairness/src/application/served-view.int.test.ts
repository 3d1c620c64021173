/**
 * The view fairness decides on holds every pick and assignment already in the log (issue 10):
 * each pick is served at its own time, so equal providers rotate instead of tying; a pick
 * still waiting for billing (its lead stopped by a failure, a restart) counts as served for
 * the leads decided meanwhile and is assigned at its own time when resumed; and the view
 * is rebuilt from the log once after the upgrade that added the waiting picks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DistributionEventData } from '@fairlead/contracts';
import { ensureServedViewRebuilt } from '../projections/subscription-stats/subscription-stats';
import type { FairnessService } from '../service';
import { level, startHarness, type Harness } from '../testing/harness';
import { distributeBatch, type DistributeLeadDeps, type DistributeLeadInput } from './distribute-batch';

let h: Harness;
let service: FairnessService;
let deps: DistributeLeadDeps;

beforeAll(async () => {
  // No relay: the test decides the leads itself, in the order and batches it chooses.
  h = await startHarness('fairness_served_view', { relay: false });
  service = await h.startService();
  deps = h.distributeDeps();
});
afterAll(async () => h?.close());

async function market(niche: string, providers: string[], max: number): Promise<void> {
  await h.seedNiche(niche, [level(niche, 1, max, 100)]);
  for (const p of providers) {
    h.billing.fund(`${niche}-${p}`, 1_000_000);
    await h.subscribe({ provider_id: `${niche}-${p}`, niche_id: niche, level_id: `${niche}-l1` });
  }
  await service.caughtUp();
}

const countsOf = (outcomes: DistributionEventData<'DistributionCompleted'>[], niche: string, providers: string[]) =>
  providers.map((p) => outcomes.filter((o) => o.assignments.some((a) => a.provider_id === `${niche}-${p}`)).length);

/** Approves the leads and decides them in one batch, or one at a time. */
async function distributeAll(niche: string, count: number, batch: boolean) {
  const inputs: DistributeLeadInput[] = [];
  for (let i = 0; i < count; i++) {
    await h.approveLead(`${niche}-lead-${i}`, niche);
    inputs.push(await request(`${niche}-lead-${i}`));
  }
  const results = batch ? await distributeBatch(deps, niche, inputs) : [];
  if (!batch) for (const input of inputs) results.push(...(await distributeBatch(deps, niche, [input])));
  return results.map((r) => {
    if (!r.ok) throw r.error;
    return r.completed;
  });
}

async function request(leadId: string): Promise<DistributeLeadInput> {
  const requested = (await h.leadEvents(leadId)).findLast((e) => e.type === 'DistributionRequested')!;
  return { request: requested.data as DistributionEventData<'DistributionRequested'>, attempt: 1 };
}

describe('the served order', () => {
  it('rotates through equal providers: 3 providers, 2 recipients, 12 leads give 8/8/8; 5 providers, 20 leads give 8 each', async () => {
    for (const batch of [false, true]) {
      await market(`rot3${batch}`, ['a', 'b', 'c'], 2);
      expect(countsOf(await distributeAll(`rot3${batch}`, 12, batch), `rot3${batch}`, ['a', 'b', 'c'])).toEqual([8, 8, 8]);
    }
    await market('rot5', ['a', 'b', 'c', 'd', 'e'], 2);
    expect(countsOf(await distributeAll('rot5', 20, true), 'rot5', ['a', 'b', 'c', 'd', 'e'])).toEqual([8, 8, 8, 8, 8]);
    // No two assignments of a niche share a served time.
    const { rows } = await h.db.pool.query<{ n: number; distinct: number }>(
      `select count(*)::int as n, count(distinct last_received_at)::int as distinct from fairness.subscription_stats where subscription_id in (select subscription_id from fairness.subscriptions where niche_id = 'rot5')`,
    );
    expect(rows[0]).toEqual({ n: 5, distinct: 5 });
  });
});

describe('picks waiting for billing', () => {
  it('count as served for the leads decided meanwhile, and are assigned at their own time when resumed', async () => {
    await h.seedNiche('wait', [level('wait', 1, 1, 100)]);
    for (const p of ['a', 'b', 'c']) {
      h.billing.fund(`wait-${p}`, 1_000_000);
      await h.subscribe({ provider_id: `wait-${p}`, niche_id: 'wait', level_id: 'wait-l1' });
    }
    await service.caughtUp();
    await h.approveLead('wait-lead-1', 'wait');
    await h.approveLead('wait-lead-2', 'wait');
    const first = await request('wait-lead-1');
    const second = await request('wait-lead-2');
    await h.billing.stop();
    try {
      const [failed] = await distributeBatch(deps, 'wait', [first]);
      expect(failed?.ok).toBe(false);
    } finally {
      h.billing.start();
    }
    const waiting = await h.db.pool.query<{ provider_id: string }>(`select provider_id from fairness.pending_picks where lead_id = 'wait-lead-1'`);
    expect(waiting.rows).toEqual([{ provider_id: 'wait-a' }]);

    // Lead 2 is decided while lead 1's pick of a waits: a counts as served, b is next.
    const [decided] = await distributeBatch(deps, 'wait', [second]);
    expect(decided?.ok && decided.completed.assignments.map((a) => a.provider_id)).toEqual(['wait-b']);
    const [resumed] = await distributeBatch(deps, 'wait', [first]);
    expect(resumed?.ok && resumed.completed.assignments.map((a) => a.provider_id)).toEqual(['wait-a']);

    const assignedAt = async (leadId: string) =>
      ((await h.leadEvents(leadId)).find((e) => e.type === 'LeadAssigned')!.data as DistributionEventData<'LeadAssigned'>).assigned_at;
    // Served where it was decided: before lead 2's pick, though charged after it.
    expect(Date.parse(await assignedAt('wait-lead-1'))).toBeLessThan(Date.parse(await assignedAt('wait-lead-2')));
    expect((await h.db.pool.query(`select 1 from fairness.pending_picks where lead_id like 'wait-%'`)).rows).toEqual([]);
  });

  it('recorded before the table existed are found again: the served view is rebuilt from the log once', async () => {
    await h.seedNiche('old', [level('old', 1, 1, 100)]);
    for (const p of ['a', 'b']) {
      h.billing.fund(`old-${p}`, 1_000_000);
      await h.subscribe({ provider_id: `old-${p}`, niche_id: 'old', level_id: 'old-l1' });
    }
    await service.caughtUp();
    await h.approveLead('old-lead-1', 'old');
    await h.approveLead('old-lead-2', 'old');
    expect((await distributeBatch(deps, 'old', [await request('old-lead-1')]))[0]?.ok).toBe(true);
    await h.billing.stop();
    try {
      expect((await distributeBatch(deps, 'old', [await request('old-lead-2')]))[0]?.ok).toBe(false);
    } finally {
      h.billing.start();
    }
    const stats = () => h.db.pool.query(`select * from fairness.subscription_stats order by subscription_id`);
    const pending = () => h.db.pool.query(`select lead_id, provider_id, level_id, subscription_id from fairness.pending_picks order by lead_id, provider_id`);
    const before = { stats: (await stats()).rows, pending: (await pending()).rows };
    expect(before.pending.some((r: { lead_id: string }) => r.lead_id === 'old-lead-2')).toBe(true);

    // As a database upgraded from before pending_picks: the waiting pick is in the log only.
    await h.db.pool.query(`delete from fairness.pending_picks`);
    await h.db.pool.query(`update fairness.served_view_state set rebuilt_at = null`);
    expect(await ensureServedViewRebuilt(h.store, h.db.pool)).toBe(true);
    expect({ stats: (await stats()).rows, pending: (await pending()).rows }).toEqual(before);
    expect(await ensureServedViewRebuilt(h.store, h.db.pool)).toBe(false);
  });
});
