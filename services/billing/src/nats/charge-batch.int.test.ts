/**
 * `charge_batch`: several leads' charges in one request and one transaction, decided one
 * after another in the order given (a provider's balance moves from one lead to the next),
 * each as `charge` decides it; with `stop_at_first_decline` nothing after the first decline
 * is attempted. Raced by single charges on a second instance: never overdrawn, one
 * decision per (lead, provider).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { startBillingHarness, type BillingHarness } from '../testing/harness';

let h: BillingHarness;

beforeAll(async () => {
  h = await startBillingHarness('billing_batch');
  await h.start({ maxConcurrentWrites: 3 });
  await h.start({ maxConcurrentWrites: 3 });
  await h.seedLevels('n', [{ level_id: 'l1', price: 40 }]);
});
afterAll(() => h?.close());

const register = async (id: string, cents: number) => {
  await h.command('register_provider', { provider_id: id, name: id, email: `${id}@m.test` });
  if (cents > 0) await h.command('top_up', { provider_id: id, amount_cents: cents });
};
const item = (leadId: string, providerId: string, amount = 40) => ({ lead_id: leadId, provider_id: providerId, subscription_id: `${providerId}-s`, level_id: 'l1', amount_cents: amount });
const balance = async (id: string) => (await h.command('get_provider', { provider_id: id })).balance_cents;

describe('charge_batch', () => {
  it('moves a provider’s balance from one lead to the next, in order, and records every decision', async () => {
    await register('p', 100);
    await register('q', 100);
    const reply = await h.command('charge_batch', {
      charges: [item('L1', 'p'), item('L1', 'q'), item('L2', 'p'), item('L3', 'p'), item('L3', 'ghost'), item('L3', 'q')],
    });
    expect(reply.results).toEqual([
      { charged: true, provider_id: 'p', lead_id: 'L1', amount_cents: 40, balance_after_cents: 60 },
      { charged: true, provider_id: 'q', lead_id: 'L1', amount_cents: 40, balance_after_cents: 60 },
      { charged: true, provider_id: 'p', lead_id: 'L2', amount_cents: 40, balance_after_cents: 20 },
      { charged: false, provider_id: 'p', lead_id: 'L3', amount_cents: 40, balance_cents: 20, reason: 'insufficient_balance' },
      { lead_id: 'L3', provider_id: 'ghost', error: { code: 'PROVIDER_NOT_FOUND', message: 'provider ghost is not registered' } },
      { charged: true, provider_id: 'q', lead_id: 'L3', amount_cents: 40, balance_after_cents: 20 },
    ]);
    expect([await balance('p'), await balance('q')]).toEqual([20, 20]);
    const events = await h.store.readStream(streams.wallet('p'));
    expect(events.map((e) => [e.type, e.streamVersion, (e.metadata as { lead_id?: string }).lead_id])).toEqual([
      ['WalletToppedUp', 0, undefined],
      ['WalletCharged', 1, 'L1'],
      ['WalletCharged', 2, 'L2'],
      ['WalletChargeDeclined', 3, 'L3'],
    ]);
    const { rows } = await h.db.pool.query('select lead_id, provider_id, charged from billing.charges where provider_id in ($1, $2) order by lead_id, provider_id', ['p', 'q']);
    expect(rows).toEqual([
      { lead_id: 'L1', provider_id: 'p', charged: true },
      { lead_id: 'L1', provider_id: 'q', charged: true },
      { lead_id: 'L2', provider_id: 'p', charged: true },
      { lead_id: 'L3', provider_id: 'p', charged: false },
      { lead_id: 'L3', provider_id: 'q', charged: true },
    ]);
  });

  it('a wallet row out of step with its stream is rebuilt from the stream, and the batch decided on it', async () => {
    await register('stale', 100);
    // Someone appended without moving the row (the row says 100 at version 0; the stream says 30 at version 1).
    await h.store.append(streams.wallet('stale'), [
      { id: crypto.randomUUID(), type: 'WalletCharged', data: { provider_id: 'stale', lead_id: 'Lx', subscription_id: 'stale-s', level_id: 'l1', amount_cents: 70, balance_after_cents: 30 }, metadata: {} },
    ], 0);
    const reply = await h.command('charge_batch', { charges: [item('S1', 'stale'), item('S2', 'stale')], stop_at_first_decline: true });
    expect(reply.results).toEqual([
      { charged: false, provider_id: 'stale', lead_id: 'S1', amount_cents: 40, balance_cents: 30, reason: 'insufficient_balance' },
      { lead_id: 'S2', provider_id: 'stale', not_attempted: true },
    ]);
    const { rows } = await h.db.pool.query('select balance_cents::int as balance, version from billing.wallets where provider_id = $1', ['stale']);
    expect(rows[0]).toEqual({ balance: 30, version: 2 });
  });

  it('stops after the lead of the first decline when asked: later leads are not attempted and leave no trace', async () => {
    await register('s1', 40);
    await register('s2', 200);
    const reply = await h.command('charge_batch', {
      charges: [item('S1', 's2'), item('S1', 's1'), item('S2', 's1'), item('S2', 's2'), item('S3', 's2'), item('S4', 's2')],
      stop_at_first_decline: true,
    });
    expect(reply.results).toEqual([
      { charged: true, provider_id: 's2', lead_id: 'S1', amount_cents: 40, balance_after_cents: 160 },
      { charged: true, provider_id: 's1', lead_id: 'S1', amount_cents: 40, balance_after_cents: 0 },
      { charged: false, provider_id: 's1', lead_id: 'S2', amount_cents: 40, balance_cents: 0, reason: 'insufficient_balance' },
      // The declined lead's other charge still goes ahead (as charge_many would); the next leads wait.
      { charged: true, provider_id: 's2', lead_id: 'S2', amount_cents: 40, balance_after_cents: 120 },
      { lead_id: 'S3', provider_id: 's2', not_attempted: true },
      { lead_id: 'S4', provider_id: 's2', not_attempted: true },
    ]);
    expect(await balance('s2')).toBe(120);
    const { rows } = await h.db.pool.query("select count(*)::int as n from billing.charges where lead_id in ('S3', 'S4')");
    expect(rows[0].n).toBe(0);
    // Asked again (the caller decided anew): the repeat is answered from the record, and a
    // repeated decline stops the batch as a fresh one does.
    const again = await h.command('charge_batch', { charges: [item('S2', 's1'), item('S3', 's2')], stop_at_first_decline: true });
    expect(again.results).toEqual([
      { charged: false, provider_id: 's1', lead_id: 'S2', amount_cents: 40, balance_cents: 0, reason: 'insufficient_balance' },
      { lead_id: 'S3', provider_id: 's2', not_attempted: true },
    ]);
    expect((await h.command('charge_batch', { charges: [item('S3', 's2')] })).results).toEqual([
      { charged: true, provider_id: 's2', lead_id: 'S3', amount_cents: 40, balance_after_cents: 80 },
    ]);
  });

  it('refuses a batch naming one (lead, provider) twice', async () => {
    expect(await h.errorCode('charge_batch', { charges: [item('D1', 'p'), item('D1', 'p')] })).toBe('INVALID_REQUEST');
  });

  it('racing single charges of the same (lead, provider) pairs on another instance: never overdrawn, one decision each', async () => {
    const providers = ['b1', 'b2', 'b3'];
    for (const p of providers) await register(p, 400);
    const leads = Array.from({ length: 12 }, (_, i) => `batch-race-${i}`);
    const batches = [leads.slice(0, 4), leads.slice(4, 8), leads.slice(8)];
    await Promise.all([
      ...batches.map((batch) => h.command('charge_batch', { charges: batch.flatMap((lead) => providers.map((p) => item(lead, p))) })),
      ...leads.flatMap((lead) => providers.map((p) => h.command('charge', { ...item(lead, p) }))),
    ]);
    for (const p of providers) {
      const events = await h.store.readStream(streams.wallet(p));
      const decisions = events.filter((e) => e.type === 'WalletCharged' || e.type === 'WalletChargeDeclined');
      expect(new Set(decisions.map((e) => (e.data as { lead_id: string }).lead_id)).size).toBe(leads.length);
      expect(decisions).toHaveLength(leads.length);
      let cents = 0;
      for (const e of events) {
        if (e.type === 'WalletToppedUp') cents += parseDistributionEvent('WalletToppedUp', e.data).amount_cents;
        if (e.type === 'WalletCharged') cents -= parseDistributionEvent('WalletCharged', e.data).amount_cents;
        expect(cents).toBeGreaterThanOrEqual(0);
      }
      // 400 cents buys exactly ten 40-cent leads of the twelve.
      expect(decisions.filter((e) => e.type === 'WalletCharged')).toHaveLength(10);
      expect(await balance(p)).toBe(0);
    }
  });
});
