/**
 * One wallet under many concurrent charges and top-ups, over NATS, answered by two billing
 * instances (own pools and connections, as two processes) sharing one database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { fold } from '../application/wallet-ledger';
import { openWallet } from '../domain/wallet';
import { startBillingHarness, type BillingHarness } from '../testing/harness';

let h: BillingHarness;

beforeAll(async () => {
  h = await startBillingHarness('billing_conc');
  await h.start({ maxConcurrentWrites: 3 });
  await h.start({ maxConcurrentWrites: 3 });
});
afterAll(() => h?.close());

describe('charges against one wallet, concurrently, two instances', () => {
  it('never overdraws, charges each (lead, provider) once, and the charges sum to the balance drop', async () => {
    await h.command('register_provider', { provider_id: 'hot', name: 'Hot', email: 'hot@w.test' });
    await h.command('top_up', { provider_id: 'hot', amount_cents: 1000 });
    const leads = Array.from({ length: 60 }, (_, i) => `lead-${i}`);
    const chargeOf = (lead: string) => h.command('charge', { provider_id: 'hot', lead_id: lead, subscription_id: 's', level_id: 'l', amount_cents: 30 });
    // Each lead charged twice at once, with five top-ups racing the charges.
    const [charges, repeats] = await Promise.all([
      Promise.all(leads.map(chargeOf)),
      Promise.all(leads.map(chargeOf)),
      Promise.all(Array.from({ length: 5 }, () => h.command('top_up', { provider_id: 'hot', amount_cents: 100 }))),
    ]);
    expect(repeats).toEqual(charges);

    const events = await h.store.readStream(streams.wallet('hot'));
    const decisions = events.filter((e) => e.type === 'WalletCharged' || e.type === 'WalletChargeDeclined');
    expect(decisions).toHaveLength(60);
    expect(new Set(decisions.map((e) => (e.data as { lead_id: string }).lead_id)).size).toBe(60);

    // Replaying the stream: the balance never goes below zero, declines only when short.
    let balance = 0;
    for (const e of events) {
      if (e.type === 'WalletToppedUp') balance += parseDistributionEvent('WalletToppedUp', e.data).amount_cents;
      if (e.type === 'WalletCharged') {
        const d = parseDistributionEvent('WalletCharged', e.data);
        balance -= d.amount_cents;
        expect(d.balance_after_cents).toBe(balance);
      }
      if (e.type === 'WalletChargeDeclined') expect(parseDistributionEvent('WalletChargeDeclined', e.data).balance_cents).toBeLessThan(30);
      expect(balance).toBeGreaterThanOrEqual(0);
    }

    const charged = charges.filter((c) => c.charged);
    const final = (await h.command('get_provider', { provider_id: 'hot' })).balance_cents;
    expect(final).toBe(1500 - 30 * charged.length);
    expect(final).toBeGreaterThanOrEqual(0);
    expect(charged.length).toBeLessThanOrEqual(1500 / 30);
    expect(charged.length).toBe(decisions.filter((e) => e.type === 'WalletCharged').length);
    const folded = fold(openWallet('hot'), events);
    expect(folded.balance_cents).toBe(final);
    const { rows } = await h.db.pool.query<{ n: string; sum: string }>(
      `select count(*) as n, coalesce(sum(amount_cents) filter (where charged), 0) as sum from billing.charges where provider_id = 'hot'`,
    );
    expect({ n: Number(rows[0]!.n), sum: Number(rows[0]!.sum) }).toEqual({ n: 60, sum: 30 * charged.length });
  });

  it('different wallets are charged in parallel without affecting each other', async () => {
    const providers = ['p1', 'p2', 'p3', 'p4'];
    for (const p of providers) {
      await h.command('register_provider', { provider_id: p, name: p, email: `${p}@w.test` });
      await h.command('top_up', { provider_id: p, amount_cents: 100 });
    }
    await Promise.all(
      providers.flatMap((p) => Array.from({ length: 10 }, (_, i) => h.command('charge', { provider_id: p, lead_id: `x-${i}`, subscription_id: 's', level_id: 'l', amount_cents: 25 }))),
    );
    for (const p of providers) expect((await h.command('get_provider', { provider_id: p })).balance_cents).toBe(0);
  });
});
