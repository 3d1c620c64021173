import { describe, expect, it } from 'vitest';
import type { LevelSnapshot } from '@fairlead/contracts';
import { chargeRecord, completedEvent, nextStep, selectProviders, startedEvent, type LevelRound } from './distribution-decider';
import { evolveDistribution, initialDistributionState, type DistributionState, type LeadEvent } from './distribution-state';
import { NEVER_SERVED, type SubscriptionView } from './eligibility';

const NOW = new Date('2026-03-15T12:00:00Z');
const LATER = new Date('2026-03-15T12:00:01.500Z');
const level = (n: number, max = 2, price = 1000): LevelSnapshot => ({ level_id: `l${n}`, name: `Level ${n}`, order_position: n, max_recipients: max, price_per_lead_cents: price });
const L1 = level(1);
const L2 = level(2, 1, 500);
const L3 = level(3, 1, 250);

const approved: LeadEvent = {
  type: 'LeadApproved',
  data: {
    received_via: 'nats',
    lead: {
      schema_version: 1,
      lead_id: 'lead-1',
      niche_id: 'n1',
      approved_at: NOW.toISOString(),
      consumer: { name: 'Ann', email: 'ann@example.com' },
      location: { postal_code: '94110', state: 'CA' },
      details: {},
    },
  },
};
const requested: LeadEvent = {
  type: 'DistributionRequested',
  data: { lead_id: 'lead-1', niche_id: 'n1', request_id: 'r1', requested_by: { actor_id: 'system', actor_role: 'system' }, requested_at: NOW.toISOString() },
};

function given(...events: LeadEvent[]): DistributionState {
  return events.reduce((s, e, i) => evolveDistribution(s, e, i), initialDistributionState());
}
function then(state: DistributionState, ...events: LeadEvent[]): DistributionState {
  return events.reduce((s, e) => evolveDistribution(s, e, s.version + 1), state);
}
const started = (traversal: LevelSnapshot[]): LeadEvent => ({
  type: 'DistributionStarted',
  data: startedEvent(given(approved), { requestId: 'r1', attempt: 1, startOrderPosition: traversal[0]?.order_position ?? 1, traversal, now: NOW }),
});
const sub = (provider: string, levelId: string, over: Partial<SubscriptionView> = {}): SubscriptionView => ({
  subscriptionId: `s-${provider}-${levelId}`,
  providerId: provider,
  levelId,
  status: 'active',
  serviceArea: { postal_codes: [], states: ['CA'] },
  dailyCap: null,
  monthlyCap: null,
  stats: NEVER_SERVED,
  ...over,
});
const byLevel = (...subs: SubscriptionView[]) => {
  const m = new Map<string, SubscriptionView[]>();
  for (const s of subs) m.set(s.levelId, [...(m.get(s.levelId) ?? []), s]);
  return m;
};
const served = (iso: string) => ({ lastReceivedAt: new Date(iso), day: iso.slice(0, 10), dayCount: 1, month: iso.slice(0, 7), monthCount: 1 });
/** Records the selection the decider makes now, as the handler would. */
function select(state: DistributionState, subs: Map<string, SubscriptionView[]>): DistributionState {
  const step = nextStep(state);
  if (step.kind !== 'select') throw new Error(`expected a selection, got ${step.kind}`);
  return then(state, ...selectProviders(state, step.rounds, subs, NOW).map((data): LeadEvent => ({ type: 'ProvidersSelected', data })));
}
/** Answers every pending charge: `declined` lists providers billing refuses. */
function charge(state: DistributionState, declined: string[] = []): DistributionState {
  const step = nextStep(state);
  if (step.kind !== 'charge') throw new Error(`expected charges, got ${step.kind}`);
  const records = step.picks.map((p) =>
    chargeRecord(state, p, declined.includes(p.providerId) ? { charged: false, balance_cents: 10, reason: 'insufficient_balance' } : { charged: true, balance_after_cents: 5000 }, LATER),
  );
  return then(state, ...(records as LeadEvent[]));
}

describe('the distribution of one lead', () => {
  it('given no approved lead, then it cannot be distributed', () => {
    expect(nextStep(given(requested)).kind).toBe('not_approved');
  });

  it('given an approved lead not started, then the next step is to claim the start level', () => {
    expect(nextStep(given(approved, requested))).toEqual({ kind: 'claim' });
  });

  it('given a started distribution, then every level of the traversal gets a first round with max_recipients slots', () => {
    const step = nextStep(given(approved, requested, started([L2, L3, L1])));
    expect(step).toEqual({
      kind: 'select',
      rounds: [
        { level: L2, round: 0, slots: 1 },
        { level: L3, round: 0, slots: 1 },
        { level: L1, round: 0, slots: 2 },
      ] satisfies LevelRound[],
    });
  });

  it('picks least recently served providers first, up to max_recipients, and records the candidates and exclusions', () => {
    const state = select(
      given(approved, requested, started([L1])),
      byLevel(
        sub('p-recent', 'l1', { stats: served('2026-03-15T11:00:00Z') }),
        sub('p-old', 'l1', { stats: served('2026-03-01T00:00:00Z') }),
        sub('p-new', 'l1'),
        sub('p-paused', 'l1', { status: 'paused' }),
      ),
    );
    const step = nextStep(state);
    expect(step.kind === 'charge' && step.picks.map((p) => [p.providerId, p.priceCents])).toEqual([
      ['p-new', 1000],
      ['p-old', 1000],
    ]);
    expect([...state.skipped.values()]).toEqual([{ provider_id: 'p-paused', subscription_id: 's-p-paused-l1', level_id: 'l1', reason: 'status' }]);
  });

  it('gives a provider subscribed in several levels the lead once: a later level it could take waits for billing to answer the earlier one', () => {
    const subs = byLevel(sub('p-both', 'l1'), sub('p-both', 'l2'), sub('p-other', 'l1'));
    let state = select(given(approved, requested, started([L2, L1])), subs);
    // Level 1 is left for after the charge: declined in level 2, p-both would be a candidate there.
    expect(state.levels.map((l) => [l.level.level_id, l.rounds])).toEqual([
      ['l2', 1],
      ['l1', 0],
    ]);
    state = charge(state);
    state = select(state, subs);
    state = charge(state);
    expect(state.assignments.map((a) => [a.provider_id, a.level_id])).toEqual([
      ['p-both', 'l2'],
      ['p-other', 'l1'],
    ]);
    expect(state.skipped.get('s-p-both-l1')?.reason).toBe('already_assigned');
    expect(nextStep(state)).toEqual({ kind: 'complete', outcome: 'success' });
  });

  it('decides levels that share no eligible provider in one step', () => {
    const state = select(given(approved, requested, started([L2, L1])), byLevel(sub('p-a', 'l2'), sub('p-b', 'l1'), sub('p-a', 'l1', { status: 'paused' })));
    expect(state.levels.map((l) => l.rounds)).toEqual([1, 1]);
  });

  it('fills a declined slot with the next provider in LRU order in a new round', () => {
    const subs = byLevel(sub('p-a', 'l1'), sub('p-b', 'l1'), sub('p-c', 'l1', { stats: served('2026-03-10T00:00:00Z') }));
    let state = select(given(approved, requested, started([L1])), subs);
    state = charge(state, ['p-a']);
    const step = nextStep(state);
    expect(step).toEqual({ kind: 'select', rounds: [{ level: L1, round: 1, slots: 1 }] });
    expect(state.skipped.get('s-p-a-l1')?.reason).toBe('insufficient_balance');
    state = select(state, subs);
    const backfill = nextStep(state);
    expect(backfill.kind === 'charge' && backfill.picks.map((p) => p.providerId)).toEqual(['p-c']);
    state = charge(state);
    expect(state.assignments.map((a) => a.provider_id)).toEqual(['p-b', 'p-c']);
    expect(nextStep(state)).toEqual({ kind: 'complete', outcome: 'partial' });
  });

  it('tries a provider billing declined in one level again in another: who cannot afford Gold may afford Bronze', () => {
    const subs = byLevel(
      sub('p-poor', 'l1'),
      sub('p-a', 'l1'),
      sub('p-poor', 'l2'),
      sub('p-x', 'l2'),
      sub('p-y', 'l2', { stats: served('2026-03-10T00:00:00Z') }),
    );
    let state = select(given(approved, requested, started([L1, L2])), subs);
    // Level 2 waits: p-poor, picked in level 1, may be declined there and then be a candidate here.
    expect(nextStep(state).kind).toBe('charge');
    expect(state.levels.map((l) => l.rounds)).toEqual([1, 0]);
    state = charge(state, ['p-poor']);
    // Level 1 picked every candidate it had: nobody is left for the declined slot.
    expect(nextStep(state)).toEqual({ kind: 'select', rounds: [{ level: L2, round: 0, slots: 1 }] });
    state = select(state, subs);
    // In level 2 p-poor ranks first (never served, then provider id), declined at level 1 or not.
    expect(state.skipped.get('s-p-poor-l1')?.reason).toBe('insufficient_balance');
    const step = nextStep(state);
    expect(step.kind === 'charge' && step.picks.map((p) => [p.providerId, p.levelId, p.priceCents])).toEqual([['p-poor', 'l2', 500]]);
    state = charge(state);
    expect(state.assignments.map((a) => [a.provider_id, a.level_id])).toEqual([
      ['p-a', 'l1'],
      ['p-poor', 'l2'],
    ]);
    expect(nextStep(state)).toEqual({ kind: 'complete', outcome: 'partial' });
  });

  it('does not try a provider again in the level where billing declined it', () => {
    const subs = byLevel(sub('p-poor', 'l1'), sub('p-a', 'l1'), sub('p-b', 'l1', { stats: served('2026-03-10T00:00:00Z') }));
    let state = select(given(approved, requested, started([level(1, 1)])), subs);
    state = charge(state, ['p-a']);
    state = select(state, subs);
    const step = nextStep(state);
    expect(step.kind === 'charge' && step.picks.map((p) => p.providerId)).toEqual(['p-poor']);
    expect(state.skipped.get('s-p-a-l1')?.reason).toBe('insufficient_balance');
  });

  it('given a level whose every eligible candidate was picked, then a declined pick leaves the slot empty (no further round)', () => {
    let state = select(given(approved, requested, started([L1])), byLevel(sub('p-a', 'l1'), sub('p-b', 'l1')));
    state = charge(state, ['p-a']);
    expect(nextStep(state)).toEqual({ kind: 'complete', outcome: 'partial' });
  });

  it('given nobody eligible in any level, then the outcome is no_eligible', () => {
    const state = select(given(approved, requested, started([L1, L2])), byLevel(sub('p-far', 'l1', { serviceArea: { postal_codes: ['1'], states: ['NY'] } })));
    expect(nextStep(state)).toEqual({ kind: 'complete', outcome: 'no_eligible' });
  });

  it('given the niche had no active level to claim, then the outcome is no_eligible without a start', () => {
    const completed = completedEvent(given(approved, requested), { requestId: 'r1', attempt: 1, now: LATER });
    expect(completed).toMatchObject({ outcome: 'no_eligible', start_order_position: null, traversal: [], assignments: [], skipped: [], duration_ms: 0 });
  });

  it('given an empty traversal (no active level), then the outcome is no_eligible', () => {
    expect(nextStep(given(approved, requested, started([])))).toEqual({ kind: 'complete', outcome: 'no_eligible' });
  });

  it('given every eligible provider declined, then the outcome is failed with the skip reasons', () => {
    let state = select(given(approved, requested, started([L1])), byLevel(sub('p-a', 'l1'), sub('p-b', 'l1')));
    state = charge(state, ['p-a', 'p-b']);
    const completed = completedEvent(state, { requestId: 'r1', attempt: 1, now: LATER });
    expect(completed.outcome).toBe('failed');
    expect(completed.assignments).toEqual([]);
    expect(completed.skipped.map((s) => [s.provider_id, s.reason])).toEqual([
      ['p-a', 'insufficient_balance'],
      ['p-b', 'insufficient_balance'],
    ]);
  });

  it('after a crash between selection and charging, resumes by charging the same picks instead of choosing again', () => {
    const subs = byLevel(sub('p-a', 'l1'), sub('p-b', 'l1'), sub('p-c', 'l1'));
    const events: LeadEvent[] = [approved, requested, started([L1])];
    const selection = nextStep(given(...events));
    if (selection.kind !== 'select') throw new Error('expected a selection');
    for (const data of selectProviders(given(...events), selection.rounds, subs, NOW)) events.push({ type: 'ProvidersSelected', data });
    // The process restarts: the state is rebuilt from the stored events alone.
    const step = nextStep(given(...events));
    expect(step.kind === 'charge' && step.picks.map((p) => p.providerId)).toEqual(['p-a', 'p-b']);
  });

  it('after a crash between two charges, charges only the pick not recorded yet', () => {
    let state = select(given(approved, requested, started([L1])), byLevel(sub('p-a', 'l1'), sub('p-b', 'l1')));
    const pending = nextStep(state);
    if (pending.kind !== 'charge') throw new Error('expected charges');
    state = then(state, chargeRecord(state, pending.picks[0]!, { charged: true, balance_after_cents: 1 }, LATER) as LeadEvent);
    const step = nextStep(state);
    expect(step.kind === 'charge' && step.picks.map((p) => p.providerId)).toEqual(['p-b']);
  });

  it('given a completed distribution, then there is nothing left to do', () => {
    let state = select(given(approved, requested, started([L1])), byLevel(sub('p-a', 'l1')));
    state = charge(state);
    const completed = completedEvent(state, { requestId: 'r1', attempt: 2, now: LATER });
    state = then(state, { type: 'DistributionCompleted', data: completed });
    expect(nextStep(state)).toEqual({ kind: 'done', completed });
    expect(completed).toMatchObject({
      outcome: 'success',
      start_order_position: 1,
      traversal: ['l1'],
      duration_ms: 1500,
      attempt: 2,
      assignments: [{ provider_id: 'p-a', level_id: 'l1', price_cents: 1000 }],
    });
  });

  it('records assignments with the level, price and balance after, under an id stable per (lead, provider)', () => {
    const state = select(given(approved, requested, started([L2])), byLevel(sub('p-a', 'l2')));
    const step = nextStep(state);
    if (step.kind !== 'charge') throw new Error('expected charges');
    const first = chargeRecord(state, step.picks[0]!, { charged: true, balance_after_cents: 42 }, LATER);
    const again = chargeRecord(state, step.picks[0]!, { charged: true, balance_after_cents: 42 }, LATER);
    expect(first).toEqual(again);
    expect(first).toMatchObject({ type: 'LeadAssigned', data: { provider_id: 'p-a', level_id: 'l2', level_name: 'Level 2', order_position: 2, price_cents: 500, balance_after_cents: 42 } });
  });

  it('given billing refused a provider outright, then it is skipped with eligibility_error and the slot is filled from the next in order', () => {
    const subs = byLevel(sub('p-a', 'l1'), sub('p-b', 'l1'), sub('p-c', 'l1'));
    let state = select(given(approved, requested, started([level(1, 1)])), subs);
    const step = nextStep(state);
    if (step.kind !== 'charge') throw new Error('expected charges');
    const refused = chargeRecord(state, step.picks[0]!, { charged: false, reason: 'eligibility_error', detail: 'billing refused the charge: WALLET_NOT_FOUND' }, LATER);
    expect(refused).toMatchObject({ type: 'ProviderSkipped', data: { provider_id: 'p-a', reason: 'eligibility_error' } });
    state = then(state, refused as LeadEvent);
    expect(nextStep(state)).toMatchObject({ kind: 'select', rounds: [{ round: 1, slots: 1 }] });
    state = select(state, subs);
    expect(state.skipped.get('s-p-a-l1')?.reason).toBe('eligibility_error');
  });

  it('counts failed attempts recorded in the stream into the attempt of the outcome', () => {
    const failed: LeadEvent = {
      type: 'DistributionFailed',
      data: { lead_id: 'lead-1', niche_id: 'n1', request_id: 'r1', attempt: 1, error: 'billing down', final: false, failed_at: NOW.toISOString() },
    };
    const state = given(approved, requested, started([]), failed, failed);
    expect(completedEvent(state, { requestId: 'r1', attempt: 1, now: LATER }).attempt).toBe(3);
  });
});
