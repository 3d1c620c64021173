import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '@fairlead/contracts';
import { answersCharge, chargeRecordOf, decideCharge, decideRefund, decideTopUp, evolveWallet, openWallet, type ChargeRecord, type Wallet, type WalletEvent } from './wallet';

const actor = SYSTEM_ACTOR;
const given = (events: WalletEvent[]): Wallet => events.reduce((w, e, i) => evolveWallet(w, e, i), openWallet('p1'));
const toppedUp = (amount: number, after: number): WalletEvent => ({
  type: 'WalletToppedUp',
  data: { provider_id: 'p1', amount_cents: amount, balance_after_cents: after, reference: 'top-up', actor },
});
const charge = (lead: string, amount: number) => ({ provider_id: 'p1', lead_id: lead, subscription_id: 's1', level_id: 'l1', amount_cents: amount });

describe('wallet: top-up', () => {
  it('given an opened wallet, when topped up, then the balance rises', () => {
    const event = decideTopUp({ amount_cents: 500, reference: 'invoice 7', actor }, openWallet('p1'));
    expect(event.data).toMatchObject({ amount_cents: 500, balance_after_cents: 500, reference: 'invoice 7' });
    expect(given([event])).toEqual({ provider_id: 'p1', balance_cents: 500, version: 0 });
  });
});

describe('wallet: charge', () => {
  it('given enough balance, when charged, then WalletCharged with the balance after', () => {
    const event = decideCharge(charge('lead-1', 300), given([toppedUp(500, 500)]));
    expect(event).toEqual({ type: 'WalletCharged', data: { ...charge('lead-1', 300), balance_after_cents: 200 } });
    expect(chargeRecordOf(event)).toEqual({ lead_id: 'lead-1', provider_id: 'p1', level_id: 'l1', charged: true, amount_cents: 300, balance_cents: 200, refunded: false });
  });

  it('takes the balance to exactly zero, never below', () => {
    const wallet = given([toppedUp(500, 500)]);
    expect(decideCharge(charge('a', 500), wallet).type).toBe('WalletCharged');
    const declined = decideCharge(charge('b', 501), wallet);
    expect(declined).toEqual({ type: 'WalletChargeDeclined', data: { ...charge('b', 501), balance_cents: 500, reason: 'insufficient_balance' } });
    expect(given([toppedUp(500, 500), declined]).balance_cents).toBe(500);
  });

  it('charges 0 cents even from an empty wallet', () => {
    expect(decideCharge(charge('free', 0), openWallet('p1')).type).toBe('WalletCharged');
  });
});

describe('wallet: a repeated charge', () => {
  const record = (charged: boolean): ChargeRecord => ({ lead_id: 'lead-1', provider_id: 'p1', level_id: 'gold', charged, amount_cents: 5_000, balance_cents: 2_000, refunded: false });

  it('given a decline at one level, a request at another level is decided anew; at the same level it is a repeat', () => {
    expect(answersCharge(record(false), 'gold')).toBe(true);
    expect(answersCharge(record(false), 'bronze')).toBe(false);
  });

  it('given a charge taken, every later request for the lead and provider is answered by it (charged at most once)', () => {
    expect(answersCharge(record(true), 'gold')).toBe(true);
    expect(answersCharge(record(true), 'bronze')).toBe(true);
  });
});

describe('wallet: refund', () => {
  const charged: ChargeRecord = { lead_id: 'lead-1', provider_id: 'p1', level_id: 'l1', charged: true, amount_cents: 300, balance_cents: 200, refunded: false };

  it('given a taken charge, when refunded, then the amount comes back', () => {
    const event = decideRefund({ lead_id: 'lead-1', reason: 'bad lead', actor }, { provider_id: 'p1', balance_cents: 200, version: 1 }, charged);
    expect(event.data).toMatchObject({ lead_id: 'lead-1', amount_cents: 300, balance_after_cents: 500, reason: 'bad lead' });
  });

  it('refuses a refund of nothing charged, of a declined charge, twice, or of 0 cents', () => {
    const wallet = { provider_id: 'p1', balance_cents: 200, version: 1 };
    const cmd = { lead_id: 'lead-1', reason: 'r', actor };
    expect(() => decideRefund(cmd, wallet, undefined)).toThrow(expect.objectContaining({ code: 'CHARGE_NOT_FOUND' }));
    expect(() => decideRefund(cmd, wallet, { ...charged, charged: false })).toThrow(expect.objectContaining({ code: 'CHARGE_NOT_FOUND' }));
    expect(() => decideRefund(cmd, wallet, { ...charged, refunded: true })).toThrow(expect.objectContaining({ code: 'ALREADY_REFUNDED' }));
    expect(() => decideRefund(cmd, wallet, { ...charged, amount_cents: 0 })).toThrow(expect.objectContaining({ code: 'NOTHING_TO_REFUND' }));
  });
});
