/**
 * Extreme amounts over NATS, as any sender could send them: what the contracts refuse
 * never reaches a wallet; at the edges the balance is exact and never passes the maximum;
 * billing's columns hold the largest price and charge (bigint), and its projections go on.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MONEY_LIMITS, streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import { waitFor } from '@fairlead/testing';
import type { BillingService } from '../service';
import { startBillingHarness, type BillingHarness } from '../testing/harness';

const { maxBalanceCents, maxPriceCents, maxTopUpCents } = MONEY_LIMITS;
let h: BillingHarness;
let service: BillingService;

beforeAll(async () => {
  h = await startBillingHarness('billing_money');
  service = await h.start();
});
afterAll(() => h?.close());

async function balance(providerId: string): Promise<number> {
  return (await h.command('get_provider', { provider_id: providerId })).balance_cents;
}

/** A registered provider whose wallet already holds `cents` (as if after many top-ups): one event and its row. */
async function providerHolding(cents: number): Promise<string> {
  const id = `rich-${randomUUID().slice(0, 8)}`;
  await h.command('register_provider', { provider_id: id, name: id, email: `${id}@x.test` });
  await h.store.append(
    streams.wallet(id),
    [{ id: randomUUID(), type: 'WalletToppedUp', data: { provider_id: id, amount_cents: 1, balance_after_cents: cents, reference: 'seed', actor: SYSTEM_ACTOR } }],
    'no_stream',
  );
  await h.db.pool.query('update billing.wallets set balance_cents = $2, version = 0 where provider_id = $1', [id, cents]);
  return id;
}

describe('money bounds on billing’s NATS commands', () => {
  it.each([
    ['the report’s top-up of 9,007,199,254,740,981', 9_007_199_254_740_981],
    ['one cent over the top-up maximum', maxTopUpCents + 1],
    ['a fraction of a cent', 10.5],
    ['zero', 0],
  ])('refuses %s before anything is written', async (_, amount) => {
    const id = await providerHolding(0);
    expect(await h.errorCode('top_up', { provider_id: id, amount_cents: amount })).toBe('INVALID_REQUEST');
    expect(await h.store.streamVersion(streams.wallet(id))).toBe(0);
  });

  it('refuses a charge above the maximum price, and charges the maximum price exactly', async () => {
    const id = await providerHolding(maxBalanceCents);
    expect(await h.errorCode('charge', { provider_id: id, lead_id: 'l-over', subscription_id: 's', level_id: 'l', amount_cents: maxPriceCents + 1 })).toBe('INVALID_REQUEST');
    expect(await h.command('charge', { provider_id: id, lead_id: 'l-max', subscription_id: 's', level_id: 'l', amount_cents: maxPriceCents })).toMatchObject({
      charged: true,
      balance_after_cents: maxBalanceCents - maxPriceCents,
    });
    // The charge record (a bigint column) holds it; a repeat is answered from there.
    expect(await h.command('charge', { provider_id: id, lead_id: 'l-max', subscription_id: 's', level_id: 'l', amount_cents: maxPriceCents })).toMatchObject({ amount_cents: maxPriceCents });
    const refunded = await h.command('refund', { provider_id: id, lead_id: 'l-max', reason: 'returned' });
    expect(refunded.balance_cents).toBe(maxBalanceCents);
  });

  it('tops up to exactly the maximum balance and refuses one cent more (BALANCE_LIMIT_EXCEEDED), the balance exact throughout', async () => {
    const id = await providerHolding(maxBalanceCents - maxTopUpCents - 1_001);
    expect((await h.command('top_up', { provider_id: id, amount_cents: maxTopUpCents })).balance_cents).toBe(maxBalanceCents - 1_001);
    expect((await h.command('top_up', { provider_id: id, amount_cents: 1_001 })).balance_cents).toBe(maxBalanceCents);
    expect(await h.errorCode('top_up', { provider_id: id, amount_cents: 1 })).toBe('BALANCE_LIMIT_EXCEEDED');
    expect(await balance(id)).toBe(maxBalanceCents);
    const { rows } = await h.db.pool.query<{ balance_cents: string }>('select balance_cents from billing.wallets where provider_id = $1', [id]);
    expect(rows[0]!.balance_cents).toBe(String(maxBalanceCents));
  });

  it('holds the largest price in its levels projection and applies the low-balance rule with it; its projections stay running', async () => {
    const nicheId = `n-${randomUUID().slice(0, 8)}`;
    await h.seedLevels(nicheId, [{ level_id: `${nicheId}-top`, price: maxPriceCents }]);
    const id = await providerHolding(maxPriceCents);
    await h.seedSubscription(`sub-${id}`, id, `${nicheId}-top`);
    await service.caughtUp(10_000);
    const { rows } = await h.db.pool.query<{ price: string }>('select price_per_lead_cents::text as price from billing.levels where level_id = $1', [`${nicheId}-top`]);
    expect(rows[0]!.price).toBe(String(maxPriceCents));
    // Charged the full price: the balance falls below the level's price, so the subscription pauses.
    await h.command('charge', { provider_id: id, lead_id: 'l-top', subscription_id: `sub-${id}`, level_id: `${nicheId}-top`, amount_cents: 1 });
    await waitFor(async () => (await h.store.readStream(streams.subscription(`sub-${id}`))).some((e) => e.type === 'SubscriptionStatusChanged'), { what: 'the low-balance pause' });
    expect(service.readers().map((r) => r.state)).toEqual(['running', 'running']);
  });
});
