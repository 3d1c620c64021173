import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '@fairlead/event-store';
import { fairnessOrderViolations } from './fairness-order';

let position = 0n;
const at = (type: string, data: unknown) => ({ type, data, globalPosition: ++position }) as unknown as StoredEvent;
const cand = (p: string, last: string | null) => ({ provider_id: p, subscription_id: `s-${p}`, last_received_at: last });
const selected = (lead: string, candidates: ReturnType<typeof cand>[], picks: string[]) =>
  at('ProvidersSelected', { lead_id: lead, level_id: 'L1', order_position: 1, round: 0, candidates, excluded: [], picks: picks.map((p) => ({ provider_id: p, subscription_id: `s-${p}`, price_cents: 100 })) });
const assigned = (lead: string, p: string, iso: string) => at('LeadAssigned', { lead_id: lead, provider_id: p, subscription_id: `s-${p}`, assigned_at: iso });

describe('fairnessOrderViolations', () => {
  const t1 = '2026-01-01T00:00:01.000Z';
  it('accepts decisions that followed the least-recently-served order with an up-to-date view', () => {
    const events = [selected('a', [cand('p1', null), cand('p2', null)], ['p1']), assigned('a', 'p1', t1), selected('b', [cand('p2', null), cand('p1', t1)], ['p2'])];
    expect(fairnessOrderViolations(events)).toEqual([]);
  });
  it('finds a decision from a view that missed a recorded assignment (a replica deciding blind)', () => {
    const events = [selected('a', [cand('p1', null), cand('p2', null)], ['p1']), assigned('a', 'p1', t1), selected('b', [cand('p1', null), cand('p2', null)], ['p1'])];
    expect(fairnessOrderViolations(events)).toEqual([expect.stringContaining('lead b level L1 round 0: saw p1 last served never')]);
  });
  it('finds candidates out of order and a pick that is not the first candidate left', () => {
    const events = [selected('a', [cand('p2', t1), cand('p1', null)], ['p1'])];
    expect(fairnessOrderViolations(events)).toEqual([expect.stringContaining('candidate p1 ranked after p2'), expect.stringContaining('pick 1 is p1')]);
  });
});
