/**
 * The fairness property over generated markets (fast-check), as a pure domain property:
 * the reference model of the rules (testing/market.ts) gives equally eligible and funded
 * providers equal shares, and the real decider — nextStep, selectProviders, chargeRecord and
 * the state they evolve, driven one lead at a time against an in-memory served view and
 * billing — decides exactly what the model decides: the same assignments and declines per
 * lead and, per level, the same served order. A failure prints the shrunk market.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LevelSnapshot } from '@fairlead/contracts';
import { equalShareViolations, levelId, marketArb, referenceModel, subscriptionId, type LeadResult, type Market, type ModelRun } from '../testing/market';
import { chargeRecord, nextStep, selectProviders, startedEvent, type ChargeResult } from './distribution-decider';
import { evolveDistribution, initialDistributionState, pickKey, type DistributionState, type LeadEvent } from './distribution-state';
import { NEVER_SERVED, servedAt, type ReceiptStats, type SubscriptionView } from './eligibility';

const NOW = new Date('2026-03-15T12:00:00Z');

/** The market decided by the real decider, one lead at a time, as distributeBatch does for a batch of one. */
function runDecider(market: Market): ModelRun {
  const levels: LevelSnapshot[] = market.levels.map((l, i) => ({ level_id: levelId(i), name: levelId(i), order_position: i + 1, max_recipients: l.max, price_per_lead_cents: l.price }));
  const subscriptions = market.providers.flatMap((p) =>
    p.subscriptions.map((s) => ({ subscriptionId: subscriptionId(p.id, s.level), providerId: p.id, levelId: levelId(s.level), states: s.states, dailyCap: s.dailyCap })),
  );
  // The stored view: stats of assignments (subscription_stats) and picks waiting for billing (pending_picks).
  const stats = new Map<string, ReceiptStats>();
  const pending = new Map<string, { subscriptionId: string; at: Date }>();
  const balances = new Map(market.providers.map((p) => [p.id, p.balance]));
  const declines = new Map<string, string>();
  let last = 0;
  const servedOrder: Record<string, { at: number; key: string }[]> = Object.fromEntries(levels.map((l) => [l.level_id, []]));

  const view = (): Map<string, SubscriptionView[]> => {
    const byLevel = new Map<string, SubscriptionView[]>();
    for (const s of subscriptions) {
      let st = stats.get(s.subscriptionId) ?? NEVER_SERVED;
      for (const p of pending.values()) if (p.subscriptionId === s.subscriptionId) st = servedAt(st, p.at);
      const v: SubscriptionView = { subscriptionId: s.subscriptionId, providerId: s.providerId, levelId: s.levelId, status: 'active', serviceArea: { postal_codes: [], states: s.states }, dailyCap: s.dailyCap, monthlyCap: null, stats: st };
      byLevel.set(s.levelId, [...(byLevel.get(s.levelId) ?? []), v]);
    }
    return byLevel;
  };
  const bill = (leadId: string, providerId: string, level: string, price: number): ChargeResult => {
    const balance = balances.get(providerId)!;
    const key = `${leadId}:${providerId}`;
    if (declines.get(key) === level) return { charged: false, reason: 'insufficient_balance', balance_cents: balance };
    if (balance < price) {
      declines.set(key, level);
      return { charged: false, reason: 'insufficient_balance', balance_cents: balance };
    }
    balances.set(providerId, balance - price);
    return { charged: true, balance_after_cents: balance - price };
  };

  const leads = market.leads.map((state, leadIndex): LeadResult => {
    const leadId = `lead${leadIndex}`;
    const apply = (s: DistributionState, e: LeadEvent) => evolveDistribution(s, e, s.version + 1);
    let s = apply(initialDistributionState(), {
      type: 'LeadApproved',
      data: { received_via: 'nats', lead: { schema_version: 1, lead_id: leadId, niche_id: 'n', approved_at: NOW.toISOString(), consumer: { name: 'A', email: 'a@example.com' }, location: { postal_code: '00000', state }, details: {} } },
    });
    const start = leadIndex % levels.length;
    const traversal = [...levels.slice(start), ...levels.slice(0, start)];
    s = apply(s, { type: 'DistributionStarted', data: startedEvent(s, { requestId: 'r', attempt: 1, startOrderPosition: start + 1, traversal, now: NOW }) });
    const servedTimes = new Map<string, Date>();
    for (let steps = 0; steps < 50; steps++) {
      const step = nextStep(s);
      if (step.kind === 'select') {
        for (const data of selectProviders(s, step.rounds, view(), NOW)) {
          s = apply(s, { type: 'ProvidersSelected', data });
          for (const p of data.picks) {
            last = Math.max(NOW.getTime(), last + 1);
            const at = new Date(last);
            servedTimes.set(pickKey(p.provider_id, data.level_id), at);
            pending.set(`${leadId}|${p.provider_id}|${data.level_id}`, { subscriptionId: p.subscription_id, at });
          }
        }
      } else if (step.kind === 'charge') {
        for (const pick of step.picks) {
          const at = servedTimes.get(pickKey(pick.providerId, pick.levelId))!;
          const record = chargeRecord(s, pick, bill(leadId, pick.providerId, pick.levelId, pick.priceCents), at);
          s = apply(s, record as LeadEvent);
          pending.delete(`${leadId}|${pick.providerId}|${pick.levelId}`);
          if (record.type === 'LeadAssigned') {
            stats.set(pick.subscriptionId, servedAt(stats.get(pick.subscriptionId) ?? NEVER_SERVED, at));
            servedOrder[pick.levelId]!.push({ at: at.getTime(), key: `${leadIndex}:${pick.providerId}` });
          }
        }
      } else break;
    }
    if (nextStep(s).kind !== 'complete') throw new Error(`lead ${leadId} did not reach its outcome`);
    return {
      assignments: s.assignments.map((a) => `${a.provider_id}@${a.level_id}`).sort(),
      declined: [...s.picks.values()].filter((p) => p.status === 'declined').map((p) => `${p.providerId}@${p.levelId}`).sort(),
    };
  });
  return {
    leads,
    servedOrder: Object.fromEntries(Object.entries(servedOrder).map(([l, xs]) => [l, xs.sort((a, b) => a.at - b.at).map((x) => x.key)])),
    decisions: [],
  };
}

describe('fairness over generated markets (pure)', () => {
  it('the model gives equally eligible and funded providers shares that differ by at most one', () => {
    let groups = 0;
    fc.assert(
      fc.property(marketArb, (market) => {
        const result = equalShareViolations(referenceModel(market));
        groups += result.groupsChecked;
        expect(result.violations).toEqual([]);
      }),
      { numRuns: Number(process.env.FAIRNESS_PROPERTY_RUNS ?? 300) },
    );
    // Not vacuous: the generated markets had equal providers to compare.
    expect(groups).toBeGreaterThan(100);
  });

  it('the decider decides exactly what the model decides: assignments, declines and the served order of every level', () => {
    fc.assert(
      fc.property(marketArb, (market) => {
        const model = referenceModel(market);
        const decided = runDecider(market);
        expect(decided.leads).toEqual(model.leads);
        expect(decided.servedOrder).toEqual(model.servedOrder);
      }),
      { numRuns: Number(process.env.FAIRNESS_PROPERTY_RUNS ?? 300) },
    );
  });

  it('three equal providers, two recipients, twelve leads: eight each (ties of one lead’s picks would give 12/6/6)', () => {
    const market: Market = {
      levels: [{ max: 2, price: 100 }],
      providers: ['a', 'b', 'c'].map((id) => ({ id, balance: 1_000_000, subscriptions: [{ level: 0, states: ['CA'], dailyCap: null }] })),
      leads: Array.from({ length: 12 }, () => 'CA'),
      batches: [],
    };
    const counts = (run: ModelRun) => ['a', 'b', 'c'].map((p) => run.leads.filter((l) => l.assignments.includes(`${p}@l1`)).length);
    expect(counts(referenceModel(market))).toEqual([8, 8, 8]);
    expect(counts(runDecider(market))).toEqual([8, 8, 8]);
  });
});
