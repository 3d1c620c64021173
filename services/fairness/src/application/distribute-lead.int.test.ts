import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DistributionEventData } from '@fairlead/contracts';
import { waitFor } from '@fairlead/testing';
import type { FairnessService } from '../service';
import { level, startHarness, type Harness } from '../testing/harness';

let h: Harness;
let service: FairnessService;

beforeAll(async () => {
  h = await startHarness('fairness_dist');
  service = await h.startService();
});
afterAll(async () => h?.close());

/** A niche with its levels, providers funded in billing and subscribed through the fairness commands. */
async function niche(id: string, levels: ReturnType<typeof level>[], subscriptions: { provider: string; level: number; funds?: number; states?: string[] }[]) {
  await h.seedNiche(id, levels);
  for (const s of subscriptions) {
    if (s.funds !== undefined && !h.billing.balances.has(s.provider)) h.billing.fund(s.provider, s.funds);
    await h.subscribe({ provider_id: s.provider, niche_id: id, level_id: `${id}-l${s.level}`, ...(s.states ? { states: s.states } : {}) });
  }
  await service.caughtUp();
}
const types = async (leadId: string) => (await h.leadEvents(leadId)).map((e) => e.type);
const assigned = (o: DistributionEventData<'DistributionCompleted'>) => o.assignments.map((a) => [a.provider_id, a.level_id, a.price_cents]);

describe('distributing a lead', () => {
  it('assigns the lead to the least recently served providers of a level, charges them and records the outcome', async () => {
    await niche('n1', [level('n1', 1, 2, 1000)], [
      { provider: 'n1-a', level: 1, funds: 10_000 },
      { provider: 'n1-b', level: 1, funds: 10_000 },
      { provider: 'n1-c', level: 1, funds: 10_000 },
    ]);
    await h.approveLead('n1-lead-1', 'n1');
    const first = await h.waitForOutcome('n1-lead-1');
    expect(first).toMatchObject({ outcome: 'success', start_order_position: 1, traversal: ['n1-l1'], skipped: [] });
    expect(assigned(first)).toEqual([
      ['n1-a', 'n1-l1', 1000],
      ['n1-b', 'n1-l1', 1000],
    ]);
    expect(await types('n1-lead-1')).toEqual(['LeadApproved', 'DistributionRequested', 'DistributionStarted', 'ProvidersSelected', 'LeadAssigned', 'LeadAssigned', 'DistributionCompleted']);
    // Two writes of the lead's stream: the start with the picks (before any charge), the assignments with the outcome.
    const { rows: writes } = await h.db.pool.query<{ types: string[] }>(
      `select array_agg(type order by stream_version) as types from eventstore.events
        where stream_name = $1 and type not in ('LeadApproved', 'DistributionRequested')
        group by transaction_id order by min(stream_version)`,
      ['lead-n1-lead-1'],
    );
    expect(writes.map((w) => w.types)).toEqual([
      ['DistributionStarted', 'ProvidersSelected'],
      ['LeadAssigned', 'LeadAssigned', 'DistributionCompleted'],
    ]);
    expect(h.billing.balances.get('n1-a')).toBe(9_000);

    // c was never served: it comes first next time, then the least recently served of a and b (provider id breaks the tie).
    await h.approveLead('n1-lead-2', 'n1');
    expect(assigned(await h.waitForOutcome('n1-lead-2')).map(([p]) => p)).toEqual(['n1-c', 'n1-a']);
    const { rows } = await h.db.pool.query<{ subscription_id: string; day_count: number }>(
      `select st.day_count, s.provider_id from fairness.subscription_stats st join fairness.subscriptions s using (subscription_id) order by s.provider_id`,
    );
    expect(rows.map((r) => r.day_count)).toEqual([2, 1, 1]);
  });

  it('walks the traversal the rotation gives and gives a provider subscribed in several levels the lead once', async () => {
    await niche('n2', [level('n2', 1, 1, 3000), level('n2', 2, 1, 2000), level('n2', 3, 2, 1000)], [
      { provider: 'n2-multi', level: 1, funds: 50_000 },
      { provider: 'n2-multi', level: 2 },
      { provider: 'n2-multi', level: 3 },
      { provider: 'n2-x', level: 2, funds: 50_000 },
      { provider: 'n2-y', level: 3, funds: 50_000 },
    ]);
    await h.approveLead('n2-lead-1', 'n2');
    const first = await h.waitForOutcome('n2-lead-1');
    expect(first.traversal).toEqual(['n2-l1', 'n2-l2', 'n2-l3']);
    expect(assigned(first)).toEqual([
      ['n2-multi', 'n2-l1', 3000],
      ['n2-x', 'n2-l2', 2000],
      ['n2-y', 'n2-l3', 1000],
    ]);
    expect(first.skipped).toEqual(expect.arrayContaining([expect.objectContaining({ provider_id: 'n2-multi', level_id: 'n2-l2', reason: 'already_assigned' })]));

    // The next lead starts at level 2 (2, 3, 1): multi is served in level 2 now, and level 1 has nobody else.
    await h.approveLead('n2-lead-2', 'n2');
    const second = await h.waitForOutcome('n2-lead-2');
    expect(second.start_order_position).toBe(2);
    expect(second.traversal).toEqual(['n2-l2', 'n2-l3', 'n2-l1']);
    expect(new Set(second.assignments.map((a) => a.provider_id)).size).toBe(second.assignments.length);
    expect(h.billing.charged().filter((c) => c.lead_id === 'n2-lead-2').reduce((sum, c) => sum + c.amount_cents, 0)).toBe(
      second.assignments.reduce((sum, a) => sum + a.price_cents, 0),
    );
  });

  it('skips a provider short of funds and fills its slot with the next one in order (partial)', async () => {
    await niche('n3', [level('n3', 1, 1, 5000)], [
      { provider: 'n3-a-poor', level: 1, funds: 100 },
      { provider: 'n3-b', level: 1, funds: 10_000 },
    ]);
    await h.approveLead('n3-lead-1', 'n3');
    const outcome = await h.waitForOutcome('n3-lead-1');
    expect(outcome.outcome).toBe('partial');
    expect(assigned(outcome)).toEqual([['n3-b', 'n3-l1', 5000]]);
    expect(outcome.skipped).toEqual([{ provider_id: 'n3-a-poor', subscription_id: expect.any(String), level_id: 'n3-l1', reason: 'insufficient_balance' }]);
    expect(await types('n3-lead-1')).toEqual([
      'LeadApproved',
      'DistributionRequested',
      'DistributionStarted',
      'ProvidersSelected',
      'ProviderSkipped',
      'ProvidersSelected',
      'LeadAssigned',
      'DistributionCompleted',
    ]);
    expect(h.billing.balances.get('n3-a-poor')).toBe(100);
  });

  it('skips a provider billing does not know (eligibility_error) and fills the slot', async () => {
    await niche('n8', [level('n8', 1, 1, 300)], [
      { provider: 'n8-a-no-wallet', level: 1 },
      { provider: 'n8-b', level: 1, funds: 1_000 },
    ]);
    await h.approveLead('n8-lead-1', 'n8');
    const outcome = await h.waitForOutcome('n8-lead-1');
    expect(assigned(outcome)).toEqual([['n8-b', 'n8-l1', 300]]);
    expect(outcome.skipped).toEqual([expect.objectContaining({ provider_id: 'n8-a-no-wallet', reason: 'eligibility_error' })]);
  });

  it('stops giving a provider leads once its daily cap is reached', async () => {
    await h.seedNiche('n9', [level('n9', 1, 1, 100)]);
    h.billing.fund('n9-a', 10_000);
    h.billing.fund('n9-b', 10_000);
    await h.subscribe({ provider_id: 'n9-a', niche_id: 'n9', level_id: 'n9-l1', daily_cap: 1 });
    await h.subscribe({ provider_id: 'n9-b', niche_id: 'n9', level_id: 'n9-l1', daily_cap: 2 });
    // No waiting for projections here: a subscription is visible to distribution once the command is answered.
    const served: (string | undefined)[] = [];
    for (const id of ['n9-lead-1', 'n9-lead-2', 'n9-lead-3', 'n9-lead-4']) {
      await h.approveLead(id, 'n9');
      served.push((await h.waitForOutcome(id)).assignments[0]?.provider_id);
    }
    expect(served).toEqual(['n9-a', 'n9-b', 'n9-b', undefined]);
    const last = await h.waitForOutcome('n9-lead-4');
    expect(last.outcome).toBe('no_eligible');
    expect(last.skipped.map((s) => [s.provider_id, s.reason]).sort()).toEqual([
      ['n9-a', 'daily_cap'],
      ['n9-b', 'daily_cap'],
    ]);
  });

  it('with nobody eligible, completes as no_eligible without charging anyone', async () => {
    await niche('n4', [level('n4', 1, 1, 500)], [{ provider: 'n4-ny', level: 1, funds: 10_000, states: ['NY'] }]);
    await h.approveLead('n4-lead-1', 'n4');
    const outcome = await h.waitForOutcome('n4-lead-1');
    expect(outcome).toMatchObject({ outcome: 'no_eligible', assignments: [] });
    expect(outcome.skipped).toEqual([expect.objectContaining({ provider_id: 'n4-ny', reason: 'ineligible_area' })]);
    expect(h.billing.requests.filter((r) => r.lead_id === 'n4-lead-1')).toEqual([]);
  });

  it('in a niche without an active level, completes as no_eligible without a start level', async () => {
    await h.seedNiche('n10', []);
    await h.approveLead('n10-lead-1', 'n10');
    expect(await h.waitForOutcome('n10-lead-1')).toMatchObject({ outcome: 'no_eligible', start_order_position: null, traversal: [], assignments: [] });
    expect(await types('n10-lead-1')).toEqual(['LeadApproved', 'DistributionRequested', 'DistributionCompleted']);
  });

  it('with every provider short of funds, completes as failed with no assignment', async () => {
    await niche('n5', [level('n5', 1, 2, 500), level('n5', 2, 1, 400)], [
      { provider: 'n5-a', level: 1, funds: 10 },
      { provider: 'n5-b', level: 2, funds: 20 },
    ]);
    await h.approveLead('n5-lead-1', 'n5');
    const outcome = await h.waitForOutcome('n5-lead-1');
    expect(outcome).toMatchObject({ outcome: 'failed', assignments: [] });
    expect(outcome.skipped.map((s) => [s.provider_id, s.reason]).sort()).toEqual([
      ['n5-a', 'insufficient_balance'],
      ['n5-b', 'insufficient_balance'],
    ]);
  });

  it('distributes a lead once: a second request or a redelivered message adds no assignment and no charge', async () => {
    await niche('n6', [level('n6', 1, 1, 700)], [{ provider: 'n6-a', level: 1, funds: 10_000 }]);
    await h.approveLead('n6-lead-1', 'n6');
    await h.waitForOutcome('n6-lead-1');
    const before = (await h.leadEvents('n6-lead-1')).length;
    const processed = service.stats().processed;

    await h.requestDistribution('n6-lead-1', 'n6');
    const requested = (await h.leadEvents('n6-lead-1')).at(-1)!;
    // Redelivery: the same relayed message published again under a new msgID reaches the consumer a second time.
    await h.js.publish(h.subjects.eventSubject('lead', 'DistributionRequested'), JSON.stringify({
      event_id: requested.id, stream: requested.stream, type: requested.type, stream_version: requested.streamVersion,
      global_position: requested.globalPosition.toString(), transaction_id: requested.transactionId.toString(),
      created_at: requested.createdAt.toISOString(), data: requested.data, metadata: {},
    }));
    await waitFor(() => service.stats().processed >= processed + 2, { what: 'both requests handled' });

    expect((await h.leadEvents('n6-lead-1')).length).toBe(before + 1);
    expect(h.billing.requests.filter((r) => r.lead_id === 'n6-lead-1')).toHaveLength(1);
    expect(h.billing.balances.get('n6-a')).toBe(9_300);
  });

  it('decides the leads of one niche one at a time: each sees the assignments before it (exact LRU)', async () => {
    await niche('n7', [level('n7', 1, 1, 100)], [
      { provider: 'n7-a', level: 1, funds: 10_000 },
      { provider: 'n7-b', level: 1, funds: 10_000 },
      { provider: 'n7-c', level: 1, funds: 10_000 },
    ]);
    const leads = Array.from({ length: 9 }, (_, i) => `n7-lead-${i}`);
    await Promise.all(leads.map((id) => h.approveLead(id, 'n7')));
    const outcomes = await Promise.all(leads.map((id) => h.waitForOutcome(id)));
    // In the order the leads were decided (their claim order), providers take turns a, b, c, a, b, c, …
    const byLead = new Map(outcomes.map((o) => [o.lead_id, o.assignments[0]?.provider_id]));
    const sequence = h.rotation.claimOrder.filter((id) => id.startsWith('n7-')).map((id) => byLead.get(id));
    expect(sequence).toEqual(['n7-a', 'n7-b', 'n7-c', 'n7-a', 'n7-b', 'n7-c', 'n7-a', 'n7-b', 'n7-c']);
  });
});
