/**
 * `charge_many`: one lead's charges in one request and one transaction, each decided as
 * `charge` decides it — never overdrawn, once per (lead, provider), the low-balance rule
 * applied — including when it races single charges of the same wallets on two instances.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import type { BillingService } from '../service';
import { startBillingHarness, type BillingHarness } from '../testing/harness';

let h: BillingHarness;
let billing: BillingService;

beforeAll(async () => {
  h = await startBillingHarness('billing_many');
  billing = await h.start({ maxConcurrentWrites: 3 });
  await h.start({ maxConcurrentWrites: 3 });
  await h.seedLevels('n', [{ level_id: 'l1', price: 40 }]);
});
afterAll(() => h?.close());

const register = async (id: string, cents: number) => {
  await h.command('register_provider', { provider_id: id, name: id, email: `${id}@m.test` });
  if (cents > 0) await h.command('top_up', { provider_id: id, amount_cents: cents });
};
const item = (providerId: string, amount: number) => ({ provider_id: providerId, subscription_id: `${providerId}-s`, level_id: 'l1', amount_cents: amount });
const balance = async (id: string) => (await h.command('get_provider', { provider_id: id })).balance_cents;

describe('charge_many', () => {
  it('decides each charge on its own wallet, in the order asked, with an error only for the unknown provider', async () => {
    await register('a', 100);
    await register('b', 30);
    await register('c', 100);
    const reply = await h.command('charge_many', { lead_id: 'lead-1', charges: [item('c', 40), item('a', 40), item('ghost', 40), item('b', 40)] });
    expect(reply.results).toEqual([
      { charged: true, provider_id: 'c', lead_id: 'lead-1', amount_cents: 40, balance_after_cents: 60 },
      { charged: true, provider_id: 'a', lead_id: 'lead-1', amount_cents: 40, balance_after_cents: 60 },
      { provider_id: 'ghost', error: { code: 'PROVIDER_NOT_FOUND', message: 'provider ghost is not registered' } },
      { charged: false, provider_id: 'b', lead_id: 'lead-1', amount_cents: 40, balance_cents: 30, reason: 'insufficient_balance' },
    ]);
    expect([await balance('a'), await balance('b'), await balance('c')]).toEqual([60, 30, 60]);
    const charged = (await h.store.readStream(streams.wallet('a'))).filter((e) => e.type === 'WalletCharged');
    expect(charged.map((e) => ({ ...parseDistributionEvent('WalletCharged', e.data), metadata: e.metadata }))).toMatchObject([
      { lead_id: 'lead-1', provider_id: 'a', subscription_id: 'a-s', amount_cents: 40, balance_after_cents: 60, metadata: { lead_id: 'lead-1', subscription_id: 'a-s' } },
    ]);
    const { rows } = await h.db.pool.query('select provider_id, charged, amount_cents::int as amount_cents from billing.charges where lead_id = $1 order by provider_id', ['lead-1']);
    expect(rows).toEqual([
      { provider_id: 'a', charged: true, amount_cents: 40 },
      { provider_id: 'b', charged: false, amount_cents: 40 },
      { provider_id: 'c', charged: true, amount_cents: 40 },
    ]);
  });

  it('answers a repeat, and charges single calls decided before, from the record without a second event', async () => {
    await register('r1', 100);
    await register('r2', 100);
    const single = await h.command('charge', { ...item('r1', 40), lead_id: 'lead-r' });
    const first = await h.command('charge_many', { lead_id: 'lead-r', charges: [item('r1', 40), item('r2', 40)] });
    expect(first.results[0]).toEqual(single);
    const again = await h.command('charge_many', { lead_id: 'lead-r', charges: [item('r1', 40), item('r2', 40)] });
    expect(again).toEqual(first);
    expect(await h.command('charge', { ...item('r2', 40), lead_id: 'lead-r' })).toEqual(first.results[1]);
    for (const id of ['r1', 'r2']) {
      expect((await h.store.readStream(streams.wallet(id))).filter((e) => e.type === 'WalletCharged')).toHaveLength(1);
      expect(await balance(id)).toBe(60);
    }
  });

  it('applies the low-balance rule to each wallet it moves', async () => {
    await register('low', 70);
    await register('rich', 1000);
    await h.seedSubscription('low-s', 'low', 'l1');
    await h.seedSubscription('rich-s', 'rich', 'l1');
    await billing.caughtUp();
    await h.command('charge_many', { lead_id: 'lead-low', charges: [item('low', 40), item('rich', 40)] });
    const statuses = async (id: string) =>
      (await h.store.readStream(streams.subscription(id))).filter((e) => e.type === 'SubscriptionStatusChanged').map((e) => parseDistributionEvent('SubscriptionStatusChanged', e.data).to);
    expect(await statuses('low-s')).toEqual(['paused_low_balance']);
    expect(await statuses('rich-s')).toEqual([]);
  });

  it('racing single charges and top-ups on the same wallets, on two instances: never overdrawn, one decision per (lead, provider)', async () => {
    const providers = ['x1', 'x2', 'x3', 'x4'];
    for (const p of providers) await register(p, 400);
    const leads = Array.from({ length: 15 }, (_, i) => `race-${i}`);
    // Each lead asks for all four at once (in a shuffled order), and again one by one.
    await Promise.all([
      ...leads.map((lead, i) => h.command('charge_many', { lead_id: lead, charges: [...providers.slice(i % 4), ...providers.slice(0, i % 4)].map((p) => item(p, 40)) })),
      ...leads.flatMap((lead) => providers.map((p) => h.command('charge', { ...item(p, 40), lead_id: lead }))),
      ...providers.map((p) => h.command('top_up', { provider_id: p, amount_cents: 40 })),
    ]);
    for (const p of providers) {
      const events = await h.store.readStream(streams.wallet(p));
      const decisions = events.filter((e) => e.type === 'WalletCharged' || e.type === 'WalletChargeDeclined');
      expect(decisions).toHaveLength(leads.length);
      expect(new Set(decisions.map((e) => (e.data as { lead_id: string }).lead_id)).size).toBe(leads.length);
      // Replaying the stream: never below zero, and a charge is declined only when the balance is short.
      let cents = 0;
      for (const e of events) {
        if (e.type === 'WalletToppedUp') cents += parseDistributionEvent('WalletToppedUp', e.data).amount_cents;
        if (e.type === 'WalletCharged') cents -= parseDistributionEvent('WalletCharged', e.data).amount_cents;
        if (e.type === 'WalletChargeDeclined') expect(parseDistributionEvent('WalletChargeDeclined', e.data).balance_cents).toBe(cents);
        if (e.type === 'WalletChargeDeclined') expect(cents).toBeLessThan(40);
        expect(cents).toBeGreaterThanOrEqual(0);
      }
      const charged = decisions.filter((e) => e.type === 'WalletCharged').length;
      // 400 cents, plus 40 topped up at some point: 10 charges, or 11 if the top-up came before the last one.
      expect(charged).toBeGreaterThanOrEqual(10);
      expect(charged).toBeLessThanOrEqual(11);
      expect(await balance(p)).toBe(440 - 40 * charged);
    }
  });
});
