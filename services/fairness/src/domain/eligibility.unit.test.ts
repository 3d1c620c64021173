import { describe, expect, it } from 'vitest';
import type { SkipReason } from '@fairlead/contracts';
import { compareLeastRecentlyServed, evaluateLevel, ineligibility, NEVER_SERVED, type SubscriptionView } from './eligibility';

const NOW = new Date('2026-03-15T12:00:00Z');
const location = { postal_code: '94110', state: 'CA' };

function sub(id: string, over: Partial<SubscriptionView> = {}): SubscriptionView {
  return {
    subscriptionId: `s-${id}`,
    providerId: `p-${id}`,
    levelId: 'l1',
    status: 'active',
    serviceArea: { postal_codes: ['94110'], states: [] },
    dailyCap: null,
    monthlyCap: null,
    stats: NEVER_SERVED,
    ...over,
  };
}
const served = (iso: string, dayCount = 1, monthCount = 1) => ({ lastReceivedAt: new Date(iso), day: iso.slice(0, 10), dayCount, month: iso.slice(0, 7), monthCount });
const none = new Map<string, SkipReason>();

describe('eligibility of one subscription', () => {
  it('given an active subscription covering the postal code, then it is eligible', () => {
    expect(ineligibility(sub('a'), location, NOW)).toBeUndefined();
  });

  it('given a service area by state only, then a lead in that state matches (case-insensitive)', () => {
    expect(ineligibility(sub('a', { serviceArea: { postal_codes: [], states: ['ca'] } }), location, NOW)).toBeUndefined();
  });

  it('given postal codes written with spaces or lower case, then they still match', () => {
    const s = sub('a', { serviceArea: { postal_codes: ['sw1a 1aa'], states: [] } });
    expect(ineligibility(s, { postal_code: 'SW1A1AA', state: 'LN' }, NOW)).toBeUndefined();
  });

  it('given an area covering neither the postal code nor the state, then ineligible_area', () => {
    expect(ineligibility(sub('a', { serviceArea: { postal_codes: ['10001'], states: ['NY'] } }), location, NOW)).toBe('ineligible_area');
  });

  it.each(['paused', 'paused_low_balance', 'cancelled'] as const)('given status %s, then status', (status) => {
    expect(ineligibility(sub('a', { status }), location, NOW)).toBe('status');
  });

  it('given a daily cap reached today (UTC), then daily_cap', () => {
    expect(ineligibility(sub('a', { dailyCap: 2, stats: served('2026-03-15T01:00:00Z', 2, 5) }), location, NOW)).toBe('daily_cap');
  });

  it('given the daily cap was reached yesterday, then the count starts again today', () => {
    expect(ineligibility(sub('a', { dailyCap: 2, stats: served('2026-03-14T23:59:59Z', 2, 5) }), location, NOW)).toBeUndefined();
  });

  it('given a monthly cap reached this month, then monthly_cap', () => {
    expect(ineligibility(sub('a', { monthlyCap: 5, stats: served('2026-03-02T00:00:00Z', 1, 5) }), location, NOW)).toBe('monthly_cap');
  });

  it('given the monthly cap was reached last month, then eligible', () => {
    expect(ineligibility(sub('a', { monthlyCap: 5, stats: served('2026-02-28T23:00:00Z', 5, 5) }), location, NOW)).toBeUndefined();
  });

  it('given a UTC day boundary, then the day is the UTC day, not the local one', () => {
    const justAfterMidnight = new Date('2026-03-16T00:00:01Z');
    expect(ineligibility(sub('a', { dailyCap: 1, stats: served('2026-03-15T23:59:59Z') }), location, justAfterMidnight)).toBeUndefined();
  });
});

describe('least-recently-served order', () => {
  const c = (provider: string, at: string | null) => ({ providerId: provider, subscriptionId: `s-${provider}`, lastReceivedAt: at ? new Date(at) : null });

  it('puts never-served providers first, then the oldest last_received_at, then provider id', () => {
    const sorted = [c('d', '2026-03-10T00:00:00Z'), c('b', null), c('c', '2026-03-01T00:00:00Z'), c('a', null), c('e', '2026-03-01T00:00:00Z')].sort(
      compareLeastRecentlyServed,
    );
    expect(sorted.map((x) => x.providerId)).toEqual(['a', 'b', 'c', 'e', 'd']);
  });
});

describe('evaluating a level', () => {
  it('given mixed subscriptions, then candidates are the eligible ones in LRU order and each exclusion has its reason', () => {
    const result = evaluateLevel({
      subscriptions: [
        sub('recent', { stats: served('2026-03-15T11:00:00Z') }),
        sub('old', { stats: served('2026-03-01T11:00:00Z') }),
        sub('new'),
        sub('paused', { status: 'paused' }),
        sub('far', { serviceArea: { postal_codes: ['10001'], states: [] } }),
      ],
      location,
      now: NOW,
      taken: none,
    });
    expect(result.candidates.map((x) => x.providerId)).toEqual(['p-new', 'p-old', 'p-recent']);
    expect(result.excluded).toEqual([
      { providerId: 'p-paused', subscriptionId: 's-paused', reason: 'status' },
      { providerId: 'p-far', subscriptionId: 's-far', reason: 'ineligible_area' },
    ]);
  });

  it('given a provider already taken by this lead, then it is excluded with the recorded reason', () => {
    const result = evaluateLevel({
      subscriptions: [sub('a'), sub('b'), sub('c')],
      location,
      now: NOW,
      taken: new Map<string, SkipReason>([
        ['p-a', 'already_assigned'],
        ['p-b', 'insufficient_balance'],
      ]),
    });
    expect(result.candidates.map((x) => x.providerId)).toEqual(['p-c']);
    expect(result.excluded.map((x) => [x.providerId, x.reason])).toEqual([
      ['p-a', 'already_assigned'],
      ['p-b', 'insufficient_balance'],
    ]);
  });

  it('given a provider taken by this lead and since paused by billing, then the reason is the one this lead recorded', () => {
    const result = evaluateLevel({
      subscriptions: [sub('a', { status: 'paused_low_balance' })],
      location,
      now: NOW,
      taken: new Map<string, SkipReason>([['p-a', 'insufficient_balance']]),
    });
    expect(result.excluded).toEqual([{ providerId: 'p-a', subscriptionId: 's-a', reason: 'insufficient_balance' }]);
  });

  it('given one provider with two subscriptions in the level, then only its least recently served one is a candidate', () => {
    const result = evaluateLevel({
      subscriptions: [sub('x', { subscriptionId: 's-x1', stats: served('2026-03-10T00:00:00Z') }), sub('x', { subscriptionId: 's-x2' })],
      location,
      now: NOW,
      taken: none,
    });
    expect(result.candidates).toEqual([{ providerId: 'p-x', subscriptionId: 's-x2', lastReceivedAt: null }]);
    expect(result.excluded).toEqual([{ providerId: 'p-x', subscriptionId: 's-x1', reason: 'duplicate_subscription' }]);
  });
});
