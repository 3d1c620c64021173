import { describe, expect, it } from 'vitest';
import { lowBalanceChanges, type PricedSubscription } from './low-balance';

const sub = (id: string, status: PricedSubscription['status'], price: number): PricedSubscription => ({ subscription_id: id, status, price_cents: price });

describe('low-balance rule', () => {
  it('given a balance below the cheapest price, pauses every active subscription', () => {
    const changes = lowBalanceChanges(40, [sub('a', 'active', 60), sub('b', 'active', 100), sub('c', 'paused_low_balance', 80)]);
    expect(changes.map((c) => [c.subscription_id, c.from, c.to])).toEqual([
      ['a', 'active', 'paused_low_balance'],
      ['b', 'active', 'paused_low_balance'],
    ]);
    expect(changes[0]!.reason).toBe('balance 40 is below the cheapest price 60');
  });

  it('given a balance covering the cheapest price, reactivates every low-balance pause, even of dearer levels', () => {
    const changes = lowBalanceChanges(60, [sub('a', 'paused_low_balance', 60), sub('b', 'paused_low_balance', 100), sub('c', 'active', 80)]);
    expect(changes.map((c) => [c.subscription_id, c.to])).toEqual([
      ['a', 'active'],
      ['b', 'active'],
    ]);
  });

  it('never touches operator states, nor counts their prices', () => {
    const subs = [sub('p', 'paused', 10), sub('x', 'cancelled', 5), sub('a', 'active', 100)];
    expect(lowBalanceChanges(50, subs).map((c) => c.subscription_id)).toEqual(['a']);
    expect(lowBalanceChanges(500, [sub('p', 'paused', 10), sub('x', 'cancelled', 5)])).toEqual([]);
  });

  it('changes nothing when every subscription is where it belongs, or there is none', () => {
    expect(lowBalanceChanges(100, [sub('a', 'active', 100)])).toEqual([]);
    expect(lowBalanceChanges(99, [sub('a', 'paused_low_balance', 100)])).toEqual([]);
    expect(lowBalanceChanges(0, [])).toEqual([]);
  });
});
