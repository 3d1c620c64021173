import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams } from '@fairlead/contracts';
import { isRemoteError, request } from '@fairlead/messaging';
import { fold } from '../application/wallet-ledger';
import { openWallet } from '../domain/wallet';
import { startBillingHarness, type BillingHarness } from '../testing/harness';

let h: BillingHarness;

beforeAll(async () => {
  h = await startBillingHarness('billing_cmds');
  await h.start();
});
afterAll(() => h?.close());

const charge = (providerId: string, leadId: string, amount: number) =>
  h.command('charge', { provider_id: providerId, lead_id: leadId, subscription_id: `sub-${providerId}`, level_id: 'l1', amount_cents: amount });

async function walletRow(providerId: string): Promise<{ balance_cents: number; version: number }> {
  const { rows } = await h.db.pool.query<{ balance_cents: string; version: number }>('select balance_cents, version from billing.wallets where provider_id = $1', [providerId]);
  return { balance_cents: Number(rows[0]!.balance_cents), version: rows[0]!.version };
}

describe('providers', () => {
  it('registers a provider with an open, empty wallet; reads and updates it', async () => {
    const registered = await h.command('register_provider', { provider_id: 'acme', name: 'Acme Roofing', email: 'ops@acme.test' });
    expect(registered).toEqual({ provider_id: 'acme', name: 'Acme Roofing', email: 'ops@acme.test', balance_cents: 0, version: 0 });
    expect(await walletRow('acme')).toEqual({ balance_cents: 0, version: -1 });
    const updated = await h.command('update_provider', { provider_id: 'acme', email: 'billing@acme.test' });
    expect(updated).toMatchObject({ email: 'billing@acme.test', name: 'Acme Roofing', version: 1 });
    expect(await h.command('get_provider', { provider_id: 'acme' })).toEqual(updated);
    expect((await h.store.readStream(streams.provider('acme'))).map((e) => e.type)).toEqual(['ProviderRegistered', 'ProviderUpdated']);
  });

  it('answers a repeated registration as done, refuses other values, and generates ids', async () => {
    await h.command('register_provider', { provider_id: 'dup', name: 'Dup', email: 'd@dup.test' });
    expect((await h.command('register_provider', { provider_id: 'dup', name: 'Dup', email: 'd@dup.test' })).version).toBe(0);
    expect(await h.errorCode('register_provider', { provider_id: 'dup', name: 'Other', email: 'd@dup.test' })).toBe('PROVIDER_EXISTS');
    const generated = await h.command('register_provider', { name: 'No Id', email: 'n@id.test' });
    expect(generated.provider_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses unknown providers everywhere with PROVIDER_NOT_FOUND, and writes nothing', async () => {
    expect(await h.errorCode('get_provider', { provider_id: 'ghost' })).toBe('PROVIDER_NOT_FOUND');
    expect(await h.errorCode('update_provider', { provider_id: 'ghost', name: 'G' })).toBe('PROVIDER_NOT_FOUND');
    expect(await h.errorCode('top_up', { provider_id: 'ghost', amount_cents: 100 })).toBe('PROVIDER_NOT_FOUND');
    expect(await h.errorCode('charge', { provider_id: 'ghost', lead_id: 'l', subscription_id: 's', level_id: 'x', amount_cents: 1 })).toBe('PROVIDER_NOT_FOUND');
    expect(await h.store.streamVersion(streams.wallet('ghost'))).toBeUndefined();
  });
});

describe('wallets', () => {
  it('tops up, charges down to exactly zero, declines beyond, and records every decision', async () => {
    await h.command('register_provider', { provider_id: 'w1', name: 'W1', email: 'w1@w.test' });
    expect((await h.command('top_up', { provider_id: 'w1', amount_cents: 1000, reference: 'invoice 1' })).balance_cents).toBe(1000);
    expect(await charge('w1', 'lead-a', 600)).toEqual({ charged: true, provider_id: 'w1', lead_id: 'lead-a', amount_cents: 600, balance_after_cents: 400 });
    expect(await charge('w1', 'lead-b', 400)).toMatchObject({ charged: true, balance_after_cents: 0 });
    expect(await charge('w1', 'lead-c', 1)).toEqual({ charged: false, provider_id: 'w1', lead_id: 'lead-c', amount_cents: 1, balance_cents: 0, reason: 'insufficient_balance' });

    const events = await h.store.readStream(streams.wallet('w1'));
    expect(events.map((e) => e.type)).toEqual(['WalletToppedUp', 'WalletCharged', 'WalletCharged', 'WalletChargeDeclined']);
    expect(events[1]!.metadata).toMatchObject({ lead_id: 'lead-a' });
    // The row and the stream agree.
    const folded = fold(openWallet('w1'), events);
    expect(await walletRow('w1')).toEqual({ balance_cents: folded.balance_cents, version: folded.version });
  });

  it('updates a provider only at the version the caller decided on: of two racing edits of version 0, one wins', async () => {
    await h.command('register_provider', { provider_id: 'edit', name: 'Edit', email: 'edit@m.test' });
    const results = await Promise.allSettled(
      ['First Name', 'Second Name'].map((name) => h.command('update_provider', { provider_id: 'edit', name, expected_version: 0 })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(isRemoteError(lost.reason) && lost.reason.code).toBe('PROVIDER_VERSION_CONFLICT');
    const now = await h.command('get_provider', { provider_id: 'edit' });
    expect(now).toMatchObject({ version: 1, name: (won[0] as PromiseFulfilledResult<{ name: string }>).value.name });
    // Without expected_version an update still applies to the latest version.
    expect(await h.command('update_provider', { provider_id: 'edit', email: 'new@m.test' })).toMatchObject({ version: 2, email: 'new@m.test' });
    expect(await h.errorCode('update_provider', { provider_id: 'edit', name: 'Stale', expected_version: 1 })).toBe('PROVIDER_VERSION_CONFLICT');
  });

  it('tops up once per idempotency key, also when the retries race; refuses the key for another top-up', async () => {
    await h.command('register_provider', { provider_id: 'idem', name: 'Idem', email: 'idem@m.test' });
    const topUp = { provider_id: 'idem', amount_cents: 700, reference: 'invoice 7', idempotency_key: 'req-7' };
    const replies = await Promise.all(Array.from({ length: 5 }, () => h.command('top_up', topUp)));
    expect(replies.map((r) => r.balance_cents)).toEqual([700, 700, 700, 700, 700]);
    expect(await h.command('top_up', topUp)).toMatchObject({ balance_cents: 700 });
    const toppedUp = (await h.store.readStream(streams.wallet('idem'))).filter((e) => e.type === 'WalletToppedUp');
    expect(toppedUp).toHaveLength(1);
    expect(toppedUp[0]!.metadata).toMatchObject({ idempotency_key: 'req-7' });
    expect(await walletRow('idem')).toEqual({ balance_cents: 700, version: 0 });

    expect(await h.errorCode('top_up', { ...topUp, amount_cents: 701 })).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await h.errorCode('top_up', { ...topUp, reference: 'invoice 8' })).toBe('IDEMPOTENCY_KEY_REUSED');
    // Another key, or none, is another top-up.
    expect(await h.command('top_up', { ...topUp, idempotency_key: 'req-8' })).toMatchObject({ balance_cents: 1_400 });
    expect(await h.command('top_up', { provider_id: 'idem', amount_cents: 700, reference: 'invoice 7' })).toMatchObject({ balance_cents: 2_100 });
    expect(await h.command('top_up', { provider_id: 'idem', amount_cents: 700, reference: 'invoice 7' })).toMatchObject({ balance_cents: 2_800 });
  });

  it('answers a repeated charge with its first decision, even after the balance changed', async () => {
    await h.command('register_provider', { provider_id: 'w2', name: 'W2', email: 'w2@w.test' });
    const declined = await charge('w2', 'lead-x', 500);
    expect(declined.charged).toBe(false);
    await h.command('top_up', { provider_id: 'w2', amount_cents: 800 });
    expect(await charge('w2', 'lead-x', 500)).toEqual(declined);
    const taken = await charge('w2', 'lead-y', 500);
    expect(await charge('w2', 'lead-y', 500)).toEqual(taken);
    expect(await charge('w2', 'lead-y', 1)).toEqual(taken);
    expect((await h.command('get_provider', { provider_id: 'w2' })).balance_cents).toBe(300);
    expect((await h.store.readStream(streams.wallet('w2'))).map((e) => e.type)).toEqual(['WalletChargeDeclined', 'WalletToppedUp', 'WalletCharged']);
  });

  it('binds a decline to its level: the same lead at another level (another price) is decided again on its own merits', async () => {
    await h.command('register_provider', { provider_id: 'lv1', name: 'LV1', email: 'lv1@w.test' });
    await h.command('top_up', { provider_id: 'lv1', amount_cents: 2_000 });
    const at = (level: string, amount: number) =>
      h.command('charge', { provider_id: 'lv1', lead_id: 'lead-z', subscription_id: `sub-lv1-${level}`, level_id: level, amount_cents: amount });
    // Gold costs more than the balance; Bronze does not: declined at one, charged at the other.
    const gold = await at('gold', 5_000);
    expect(gold).toMatchObject({ charged: false, balance_cents: 2_000 });
    expect(await at('gold', 5_000)).toEqual(gold);
    const bronze = await at('bronze', 1_000);
    expect(bronze).toMatchObject({ charged: true, balance_after_cents: 1_000 });
    // Charged once for the lead: any later request for it, at any level, is answered by that charge.
    expect(await at('bronze', 1_000)).toEqual(bronze);
    expect(await at('silver', 500)).toEqual(bronze);
    expect((await h.command('get_provider', { provider_id: 'lv1' })).balance_cents).toBe(1_000);
    const wallet = await h.store.readStream(streams.wallet('lv1'));
    expect(wallet.map((e) => [e.type, (e.data as { level_id?: string }).level_id])).toEqual([
      ['WalletToppedUp', undefined],
      ['WalletChargeDeclined', 'gold'],
      ['WalletCharged', 'bronze'],
    ]);
    const { rows } = await h.db.pool.query('select level_id, charged, amount_cents from billing.charges where lead_id = $1', ['lead-z']);
    // amount_cents is a bigint column: pg answers it as a decimal string.
    expect(rows).toEqual([{ level_id: 'bronze', charged: true, amount_cents: '1000' }]);
  });

  it('a decline at another level does not let the same price through twice: declined again when the balance is still short', async () => {
    await h.command('register_provider', { provider_id: 'lv2', name: 'LV2', email: 'lv2@w.test' });
    await h.command('top_up', { provider_id: 'lv2', amount_cents: 300 });
    const at = (level: string, amount: number) =>
      h.command('charge', { provider_id: 'lv2', lead_id: 'lead-q', subscription_id: `sub-lv2-${level}`, level_id: level, amount_cents: amount });
    expect(await at('gold', 5_000)).toMatchObject({ charged: false });
    expect(await at('silver', 1_000)).toMatchObject({ charged: false, balance_cents: 300 });
    expect((await h.command('get_provider', { provider_id: 'lv2' })).balance_cents).toBe(300);
  });

  it('refunds a taken charge once; refuses declined, unknown and repeated refunds', async () => {
    await h.command('register_provider', { provider_id: 'w3', name: 'W3', email: 'w3@w.test' });
    await h.command('top_up', { provider_id: 'w3', amount_cents: 500 });
    await charge('w3', 'lead-1', 300);
    await charge('w3', 'lead-2', 300);
    const refunded = await h.command('refund', { provider_id: 'w3', lead_id: 'lead-1', reason: 'duplicate lead' });
    expect(refunded.balance_cents).toBe(500);
    expect(await h.errorCode('refund', { provider_id: 'w3', lead_id: 'lead-1', reason: 'again' })).toBe('ALREADY_REFUNDED');
    expect(await h.errorCode('refund', { provider_id: 'w3', lead_id: 'lead-2', reason: 'declined one' })).toBe('CHARGE_NOT_FOUND');
    expect(await h.errorCode('refund', { provider_id: 'w3', lead_id: 'never', reason: 'r' })).toBe('CHARGE_NOT_FOUND');
    expect(await h.errorCode('refund', { provider_id: 'ghost', lead_id: 'lead-1', reason: 'r' })).toBe('PROVIDER_NOT_FOUND');
    // A refund does not reopen the charge: the same (lead, provider) is still answered with its decision.
    expect(await charge('w3', 'lead-1', 300)).toMatchObject({ charged: true, balance_after_cents: 200 });
    expect((await h.command('get_provider', { provider_id: 'w3' })).balance_cents).toBe(500);
    const types = (await h.store.readStream(streams.wallet('w3'))).map((e) => e.type);
    expect(types).toEqual(['WalletToppedUp', 'WalletCharged', 'WalletChargeDeclined', 'WalletRefunded']);
  });

  it('answers malformed requests with INVALID_REQUEST and the issues, and keeps serving', async () => {
    const cases: [Parameters<BillingHarness['command']>[0], unknown, string[]][] = [
      ['register_provider', { name: 'X', email: 'not-an-email' }, ['email']],
      ['top_up', { provider_id: 'w1', amount_cents: 0 }, ['amount_cents']],
      ['top_up', { provider_id: 'w1', amount_cents: 1.5 }, ['amount_cents']],
      ['charge', { provider_id: 'w1', lead_id: 'l', subscription_id: 's', level_id: 'x', amount_cents: -5 }, ['amount_cents']],
      ['charge', { provider_id: 'w1', amount_cents: 5 }, ['lead_id', 'level_id', 'subscription_id']],
      ['refund', { provider_id: 'w1', lead_id: 'l' }, ['reason']],
    ];
    for (const [verb, body, paths] of cases) {
      const error = await h.command(verb, body).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isRemoteError(error) && error.code).toBe('INVALID_REQUEST');
      if (isRemoteError(error)) expect(error.issues?.map((i) => i.path.join('.')).sort()).toEqual(paths);
    }
    const notJson = await request(h.client, h.subjects.command('billing', 'charge'), new TextEncoder().encode('nope')).catch((e: unknown) => e);
    expect(isRemoteError(notJson) && notJson.code).toBe('INVALID_REQUEST');
    expect((await h.command('get_provider', { provider_id: 'w1' })).balance_cents).toBe(0);
  });
});
