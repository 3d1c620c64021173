import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServedHistory, type HistoryEvent } from './served-history';

const LEVEL = 'n-l1';
const sub = (p: string) => `${p}-s`;
let position = 0n;
const at = (type: string, data: unknown): HistoryEvent => ({ type, data, globalPosition: ++position });
const selected = (lead: string, candidates: [string, string | null][], picks: string[], excluded: [string, string][] = []) =>
  at('ProvidersSelected', {
    lead_id: lead,
    level_id: LEVEL,
    order_position: 1,
    round: 0,
    candidates: candidates.map(([p, t]) => ({ provider_id: p, subscription_id: sub(p), last_received_at: t })),
    excluded: excluded.map(([p, reason]) => ({ provider_id: p, subscription_id: sub(p), reason })),
    picks: picks.map((p) => ({ provider_id: p, subscription_id: sub(p), price_cents: 100 })),
  });
const assigned = (lead: string, p: string) =>
  at('LeadAssigned', {
    assignment_id: `${lead}-${p}`,
    lead_id: lead,
    niche_id: 'n',
    provider_id: p,
    subscription_id: sub(p),
    level_id: LEVEL,
    level_name: 'L1',
    order_position: 1,
    price_cents: 100,
    balance_after_cents: 0,
    assigned_at: '2026-01-01T00:00:00.000Z',
  });
const declined = (lead: string, p: string) => at('ProviderSkipped', { lead_id: lead, provider_id: p, subscription_id: sub(p), level_id: LEVEL, reason: 'insufficient_balance', detail: 'short' });
const withdrawn = (lead: string, p: string) => at('PicksWithdrawn', { lead_id: lead, picks: [{ provider_id: p, subscription_id: sub(p), level_id: LEVEL }], reason: 'earlier_charge_declined' });
const T = '2026-01-01T00:00:00.000Z';

function run(events: HistoryEvent[]) {
  const history = new ServedHistory();
  return events.map((e) => history.apply(e)).filter((v) => v !== undefined);
}

describe('ServedHistory: the LRU order from the log', () => {
  it('counts a pick waiting for billing as served, and forgets a declined or withdrawn one', () => {
    const verdicts = run([
      selected('l1', [['a', null], ['b', null], ['c', null]], ['a']),
      // l1's pick of a waits for billing: b is next.
      selected('l2', [['b', null], ['c', null], ['a', T]], ['b']),
      declined('l1', 'a'),
      withdrawn('l2', 'b'),
      // Neither counts any more: a is first again (by id).
      selected('l3', [['a', null], ['b', null], ['c', null]], ['a']),
      assigned('l3', 'a'),
      selected('l4', [['b', null], ['c', null], ['a', T]], ['b', 'c']),
    ]);
    expect(verdicts.map((v) => v.violations)).toEqual([[], [], [], []]);
  });

  it('reports a choice the history contradicts, though its record agrees with itself', () => {
    const [, , wrong] = run([
      selected('l1', [['a', null], ['b', null]], ['a']),
      assigned('l1', 'a'),
      selected('l2', [['b', null], ['a', T]], ['b']),
      assigned('l2', 'b'),
      // b recorded as never served and chosen: by the log a (served at l1) comes first.
      selected('l3', [['b', null], ['a', T]], ['b']),
    ]);
    expect(wrong!.derived.map((c) => [c.provider_id, c.last_served?.lead_id])).toEqual([
      ['a', 'l1'],
      ['b', 'l2'],
    ]);
    expect(wrong!.violations).toEqual([
      expect.stringMatching(/^candidate 1 is b .* but by the log it is a/),
      expect.stringMatching(/^b is recorded as never served, but the log shows it served for lead l2/),
      expect.stringMatching(/^candidate 2 is a/),
      'pick 1 is b, but the least recently served eligible candidate left by the log was a',
    ]);
  });

  it('checks exclusions against what the lead did: already assigned, declined at this level', () => {
    const [v] = run([selected('l1', [['c', null]], ['c'], [['a', 'already_assigned'], ['b', 'insufficient_balance']])]);
    expect(v!.violations).toEqual([
      'a is excluded as already assigned, but this lead has no pick or assignment for it',
      'b is excluded for insufficient balance, but billing declined it in no earlier round of this level',
    ]);
  });

  it('over generated histories: a decider that follows the log is never reported; one wrong pick always is', () => {
    const providers = ['a', 'b', 'c', 'd'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('decide' as const), eligible: fc.subarray(providers, { minLength: 1 }), slots: fc.integer({ min: 1, max: 2 }) }),
      fc.record({ kind: fc.constantFrom('assign' as const, 'decline' as const, 'withdraw' as const), which: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), fc.nat(), (ops, wrongAt) => {
        // The decider's own bookkeeping: a counter per pick, the picks still counting per provider.
        let counter = 0;
        const counting = new Map<string, number[]>();
        const waiting: { lead: string; p: string; mark: number }[] = [];
        const events: HistoryEvent[] = [];
        const decisions: { index: number; order: string[]; picks: number }[] = [];
        ops.forEach((o, i) => {
          if (o.kind === 'decide') {
            const last = (p: string) => Math.max(-1, ...(counting.get(p) ?? []));
            const order = [...o.eligible].sort((x, y) => last(x) - last(y) || (x < y ? -1 : 1));
            const picks = order.slice(0, o.slots);
            decisions.push({ index: events.length, order, picks: picks.length });
            events.push(selected(`lead${i}`, order.map((p) => [p, last(p) < 0 ? null : T]), picks));
            for (const p of picks) {
              const mark = ++counter;
              counting.set(p, [...(counting.get(p) ?? []), mark]);
              waiting.push({ lead: `lead${i}`, p, mark });
            }
            return;
          }
          const w = waiting.splice(o.which % Math.max(1, waiting.length), 1)[0];
          if (!w) return;
          if (o.kind === 'assign') events.push(assigned(w.lead, w.p));
          else {
            counting.set(w.p, counting.get(w.p)!.filter((m) => m !== w.mark));
            events.push(o.kind === 'decline' ? declined(w.lead, w.p) : withdrawn(w.lead, w.p));
          }
        });
        // A decider that follows the log is never reported.
        expect(run(events).flatMap((v) => v.violations)).toEqual([]);
        // Swap one pick for a candidate ranked below the picks: always reported.
        const wrongable = decisions.filter((d) => d.order.length > d.picks);
        if (wrongable.length === 0) return;
        const d = wrongable[wrongAt % wrongable.length]!;
        const e = events[d.index]!;
        const data = e.data as { picks: { provider_id: string; subscription_id: string }[] };
        const intruder = d.order[d.picks]!;
        const doctored = [...events];
        doctored[d.index] = { ...e, data: { ...data, picks: [{ ...data.picks[0]!, provider_id: intruder, subscription_id: sub(intruder) }, ...data.picks.slice(1)] } };
        expect(run(doctored).some((v) => v.global_position === e.globalPosition.toString() && v.violations.length > 0)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
