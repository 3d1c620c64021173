import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '@fairlead/contracts';
import { DeciderSpecification } from '@fairlead/event-sourcing/testing';
import { AlreadyRefundedError, ChargeNotFoundError, IdempotencyKeyReusedError, ProviderNotFoundError } from './errors';
import { eventIds } from './ids';
import { walletDecider, type DecidedWalletEvent, type WalletCommand } from './wallet.decider';

const actor = SYSTEM_ACTOR;
const given = DeciderSpecification.for(walletDecider);
const toppedUp = (amount: number, after: number, key?: string): DecidedWalletEvent => ({
  type: 'WalletToppedUp',
  data: { provider_id: 'p1', amount_cents: amount, balance_after_cents: after, reference: 'invoice', actor },
  ...(key ? { metadata: { idempotency_key: key } } : {}),
});
const charge = (lead: string, amount: number, level = 'gold'): WalletCommand => ({ type: 'charge', provider_id: 'p1', lead_id: lead, subscription_id: 's1', level_id: level, amount_cents: amount });
const charged = (lead: string, amount: number, after: number): DecidedWalletEvent => ({
  type: 'WalletCharged',
  data: { provider_id: 'p1', lead_id: lead, subscription_id: 's1', level_id: 'gold', amount_cents: amount, balance_after_cents: after },
  id: eventIds.charge(lead, 'p1'),
});
const topUp = (amount: number, key?: string): WalletCommand => ({ type: 'top_up', provider_id: 'p1', amount_cents: amount, reference: 'invoice', idempotency_key: key, actor });

describe('wallet decider', () => {
  it('given no wallet (the provider is not registered), every command is PROVIDER_NOT_FOUND', () => {
    given([]).when(topUp(100)).thenThrows(ProviderNotFoundError);
    given([]).when(charge('l1', 1)).thenThrows(ProviderNotFoundError);
  });

  it('given a balance, when charged, then WalletCharged with its deterministic id and the balance after', () => {
    const state = given([toppedUp(500, 500)]).when(charge('l1', 300)).then([charged('l1', 300, 200)]);
    expect(state.wallet).toMatchObject({ balance_cents: 200, version: 1 });
    expect(state.charges.get('l1')).toMatchObject({ charged: true, amount_cents: 300, balance_cents: 200 });
  });

  it('a repeated charge is answered by its record: nothing happens, even after the balance changed', () => {
    given([toppedUp(500, 500), charged('l1', 300, 200), toppedUp(1000, 1200)]).when(charge('l1', 300)).thenNothingHappened();
  });

  it('a decline binds its level: at another level the lead is decided anew, under an id of that level', () => {
    const declined: DecidedWalletEvent = {
      type: 'WalletChargeDeclined',
      data: { provider_id: 'p1', lead_id: 'l1', subscription_id: 's1', level_id: 'gold', amount_cents: 900, balance_cents: 500, reason: 'insufficient_balance' },
    };
    given([toppedUp(500, 500), declined]).when(charge('l1', 900)).thenNothingHappened();
    const [event] = given([toppedUp(500, 500), declined]).when(charge('l1', 100, 'bronze')).events();
    expect(event).toMatchObject({ type: 'WalletCharged', id: eventIds.chargeAtLevel('l1', 'p1', 'bronze'), data: { balance_after_cents: 400 } });
  });

  it('a keyed top-up happens once: a repeat is nothing, the key on another top-up is refused', () => {
    const opened = toppedUp(50, 50);
    given([opened])
      .when(topUp(100, 'k1'))
      .then([{ ...toppedUp(100, 150, 'k1'), id: eventIds.topUp('p1', 'k1') }]);
    given([opened, toppedUp(100, 150, 'k1')]).when(topUp(100, 'k1')).thenNothingHappened();
    given([opened, toppedUp(100, 150, 'k1')]).when(topUp(101, 'k1')).thenThrows(IdempotencyKeyReusedError);
  });

  it('refunds a taken charge once; refuses a refund of what was never charged', () => {
    const refund: WalletCommand = { type: 'refund', provider_id: 'p1', lead_id: 'l1', reason: 'bad lead', actor };
    const [refunded] = given([toppedUp(500, 500), charged('l1', 300, 200)]).when(refund).events();
    expect(refunded).toMatchObject({ type: 'WalletRefunded', id: eventIds.refund('l1', 'p1'), data: { amount_cents: 300, balance_after_cents: 500 } });
    given([toppedUp(500, 500), charged('l1', 300, 200), refunded!]).when(refund).thenThrows(AlreadyRefundedError);
    given([toppedUp(500, 500)]).when(refund).thenThrows(ChargeNotFoundError);
  });
});
