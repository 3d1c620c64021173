/**
 * The low-balance rule end to end: niches and subscriptions recorded as rotation and
 * fairness record them, charges and top-ups over NATS, status changes read back from the
 * subscription streams.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { waitFor } from '@fairlead/testing';
import type { BillingService } from '../service';
import { startBillingHarness, type BillingHarness } from '../testing/harness';

let h: BillingHarness;
let billing: BillingService;

beforeAll(async () => {
  h = await startBillingHarness('billing_low');
  billing = await h.start();
  await h.seedLevels('n', [
    { level_id: 'cheap', price: 30 },
    { level_id: 'dear', price: 60 },
  ]);
});
afterAll(() => h?.close());

async function statusOf(subscriptionId: string): Promise<{ status: string; changes: { from: string; to: string; reason: string }[] }> {
  let status = '';
  const changes: { from: string; to: string; reason: string }[] = [];
  for (const e of await h.store.readStream(streams.subscription(subscriptionId))) {
    if (e.type === 'SubscriptionCreated') status = parseDistributionEvent('SubscriptionCreated', e.data).status;
    if (e.type === 'SubscriptionStatusChanged') {
      const d = parseDistributionEvent('SubscriptionStatusChanged', e.data);
      status = d.to;
      changes.push({ from: d.from, to: d.to, reason: d.reason });
    }
  }
  return { status, changes };
}

const charge = (providerId: string, leadId: string, amount: number) =>
  h.command('charge', { provider_id: providerId, lead_id: leadId, subscription_id: 's', level_id: 'cheap', amount_cents: amount });

describe('low balance', () => {
  it('pauses active subscriptions when the balance falls below the cheapest price, and a covering top-up reactivates them', async () => {
    await h.command('register_provider', { provider_id: 'p', name: 'P', email: 'p@p.test' });
    await h.seedSubscription('p-cheap', 'p', 'cheap');
    await h.seedSubscription('p-dear', 'p', 'dear');
    await h.seedSubscription('p-held', 'p', 'cheap', 'paused');
    await h.seedSubscription('p-gone', 'p', 'cheap', 'cancelled');
    await h.command('top_up', { provider_id: 'p', amount_cents: 100 });
    await billing.caughtUp();

    await charge('p', 'lead-1', 50); // 50 left ≥ 30: nothing moves
    expect((await statusOf('p-cheap')).status).toBe('active');
    await charge('p', 'lead-2', 30); // 20 left < 30: both active ones pause
    expect(await statusOf('p-cheap')).toEqual({
      status: 'paused_low_balance',
      changes: [{ from: 'active', to: 'paused_low_balance', reason: 'balance 20 is below the cheapest price 30' }],
    });
    expect((await statusOf('p-dear')).status).toBe('paused_low_balance');

    await charge('p', 'lead-3', 30); // declined; already paused, nothing more
    await h.command('top_up', { provider_id: 'p', amount_cents: 5 }); // 25: still short
    expect((await statusOf('p-cheap')).changes).toHaveLength(1);

    await h.command('top_up', { provider_id: 'p', amount_cents: 10 }); // 35 ≥ 30: every low-balance pause lifts
    expect(await statusOf('p-cheap')).toMatchObject({ status: 'active', changes: [{ to: 'paused_low_balance' }, { from: 'paused_low_balance', to: 'active' }] });
    expect((await statusOf('p-dear')).status).toBe('active');

    // Operators' states were never touched.
    expect(await statusOf('p-held')).toEqual({ status: 'paused', changes: [{ from: 'active', to: 'paused', reason: 'operator' }] });
    expect((await statusOf('p-gone')).status).toBe('cancelled');
    const metadata = (await h.store.readStream(streams.subscription('p-dear')))[1]!.metadata;
    expect(metadata).toMatchObject({ actor: { actor_id: 'system' } });
  });

  it('pauses after a declined charge too (the balance was already short)', async () => {
    await h.command('register_provider', { provider_id: 'q', name: 'Q', email: 'q@q.test' });
    await h.seedSubscription('q-cheap', 'q', 'cheap');
    await billing.caughtUp();
    // An empty wallet: the decline is the first change of the wallet and pauses the subscription.
    expect((await charge('q', 'lead-1', 30)).charged).toBe(false);
    expect((await statusOf('q-cheap')).status).toBe('paused_low_balance');
  });

  it('re-reads a subscription that changed behind the projection, and leaves an operator pause alone', async () => {
    await h.command('register_provider', { provider_id: 'r', name: 'R', email: 'r@r.test' });
    await h.seedSubscription('r-a', 'r', 'cheap');
    await h.seedSubscription('r-b', 'r', 'cheap');
    await h.command('top_up', { provider_id: 'r', amount_cents: 40 });
    await billing.caughtUp();
    // An operator pauses r-b and changes r-a's area; billing's projection is made to lag
    // behind both (as it may), so its first appends conflict.
    await h.store.append(
      streams.subscription('r-b'),
      [{ id: crypto.randomUUID(), type: 'SubscriptionStatusChanged', data: { subscription_id: 'r-b', provider_id: 'r', from: 'active', to: 'paused', reason: 'operator', actor: { actor_id: 'op', actor_role: 'operator' } } }],
      0,
    );
    await h.store.append(
      streams.subscription('r-a'),
      [{ id: crypto.randomUUID(), type: 'SubscriptionChanged', data: { subscription_id: 'r-a', daily_cap: 3, actor: { actor_id: 'op', actor_role: 'operator' } } }],
      0,
    );
    await billing.caughtUp();
    await h.db.pool.query(`update billing.subscriptions set status = 'active', version = 0 where subscription_id in ('r-a', 'r-b')`);

    await charge('r', 'lead-1', 30); // 10 left < 30
    expect(await statusOf('r-a')).toMatchObject({ status: 'paused_low_balance', changes: [{ from: 'active', to: 'paused_low_balance' }] });
    expect(await statusOf('r-b')).toEqual({ status: 'paused', changes: [{ from: 'active', to: 'paused', reason: 'operator' }] });
    // The table is back in step with the streams.
    const { rows } = await h.db.pool.query<{ subscription_id: string; status: string; version: number }>(
      `select subscription_id, status, version from billing.subscriptions where provider_id = 'r' order by subscription_id`,
    );
    expect(rows).toEqual([
      { subscription_id: 'r-a', status: 'paused_low_balance', version: 2 },
      { subscription_id: 'r-b', status: 'paused', version: 1 },
    ]);
  });

  it('follows level price changes from the niche stream', async () => {
    await h.command('register_provider', { provider_id: 's', name: 'S', email: 's@s.test' });
    await h.seedSubscription('s-dear', 's', 'dear');
    await billing.caughtUp();
    await h.command('top_up', { provider_id: 's', amount_cents: 70 }); // 70 ≥ 60
    expect((await statusOf('s-dear')).status).toBe('active');
    await h.store.append(
      streams.niche('n'),
      [{ id: crypto.randomUUID(), type: 'CompetitionLevelUpdated', data: { niche_id: 'n', level_id: 'dear', price_per_lead_cents: 80, actor: { actor_id: 'op', actor_role: 'operator' } } }],
      'any',
    );
    await waitFor(
      async () => {
        const { rows } = await h.db.pool.query<{ price: number }>(`select price_per_lead_cents::int as price from billing.levels where level_id = 'dear'`);
        return rows[0]?.price === 80;
      },
      { what: 'the new price in billing.levels' },
    );
    await charge('s', 'lead-1', 10); // 60 < 80
    expect((await statusOf('s-dear')).status).toBe('paused_low_balance');
  });
});
