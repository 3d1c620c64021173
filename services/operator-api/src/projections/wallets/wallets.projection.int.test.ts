import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams } from '@fairlead/contracts';
import { event } from '../../testing/events';
import { startProjectionHarness, type ProjectionHarness } from '../../testing/projection-harness';
import { walletsProjection } from './wallets.projection';
import { findWallet, listLedger } from './wallets.queries';

let h: ProjectionHarness;
const op = { actor_id: 'olga', actor_role: 'operator' } as const;
const charge = { provider_id: 'p1', subscription_id: 's1', level_id: 'roofing-l1' };

beforeAll(async () => {
  h = await startProjectionHarness('op_wallets');
  await h.append(streams.wallet('p1'), [
    event('WalletToppedUp', { provider_id: 'p1', amount_cents: 10_000, balance_after_cents: 10_000, reference: 'invoice 7', actor: op }),
    event('WalletCharged', { ...charge, lead_id: 'lead-1', amount_cents: 2_500, balance_after_cents: 7_500 }),
    event('WalletChargeDeclined', { ...charge, lead_id: 'lead-2', amount_cents: 9_000, balance_cents: 7_500, reason: 'insufficient_balance' }),
    event('WalletRefunded', { provider_id: 'p1', lead_id: 'lead-1', amount_cents: 2_500, balance_after_cents: 10_000, reason: 'returned lead', actor: op }),
  ]);
  await h.project(walletsProjection);
});
afterAll(async () => {
  await h.close();
});

describe('operator.wallets and operator.ledger', () => {
  it('keeps the balance and totals', async () => {
    expect(await findWallet(h.pool, 'p1')).toMatchObject({ balance_cents: 10_000, topped_up_cents: 10_000, charged_cents: 2_500, refunded_cents: 2_500, version: 3 });
  });

  it('lists the ledger newest first with signed amounts, by kind and by cursor', async () => {
    const { items } = await listLedger(h.pool, 'p1', { limit: 10 });
    expect(items.map((e) => [e.kind, e.amount_cents, e.balance_after_cents, e.lead_id, e.actor_id])).toEqual([
      ['refund', 2_500, 10_000, 'lead-1', 'olga'],
      ['charge_declined', 0, 7_500, 'lead-2', null],
      ['charge', -2_500, 7_500, 'lead-1', null],
      ['top_up', 10_000, 10_000, null, 'olga'],
    ]);
    const first = await listLedger(h.pool, 'p1', { limit: 3 });
    expect((await listLedger(h.pool, 'p1', { limit: 3, cursor: first.next_cursor! })).items.map((e) => e.kind)).toEqual(['top_up']);
    expect((await listLedger(h.pool, 'p1', { kind: 'charge', limit: 10 })).items).toHaveLength(1);
  });

  it('changes nothing when the whole log is replayed (totals are not counted twice)', async () => {
    const before = await h.dump(['operator.wallets', 'operator.ledger']);
    await h.replay(walletsProjection);
    expect(await h.dump(['operator.wallets', 'operator.ledger'])).toBe(before);
  });
});
