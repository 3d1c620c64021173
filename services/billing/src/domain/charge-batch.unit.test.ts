/**
 * decideChargeBatch as properties over any batch: charges decided in the order given on
 * running balances (never below zero, each charge as decideCharge decides it on the balance
 * the earlier ones left), a repeat answered by its record, and — when asked — nothing
 * attempted for other leads after the first decline. fast-check prints the shrunk batch.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chargeKey, decideCharge, decideChargeBatch, evolveWallet, type ChargeCommand, type ChargeRecord, type Wallet } from './wallet';

const providers = ['p0', 'p1', 'p2', 'p3'];
const wallets = fc
  .array(fc.tuple(fc.constantFrom(...providers.slice(0, 3)), fc.integer({ min: 0, max: 2_000 })), { maxLength: 3 })
  .map((entries) => new Map<string, Wallet>(entries.map(([id, balance]) => [id, { provider_id: id, balance_cents: balance, version: 0 }])));
const charge = fc.record({
  lead_id: fc.constantFrom('l0', 'l1', 'l2', 'l3', 'l4'),
  provider_id: fc.constantFrom(...providers),
  subscription_id: fc.constant('s'),
  level_id: fc.constantFrom('gold', 'bronze'),
  amount_cents: fc.integer({ min: 0, max: 900 }),
});
// The contract refuses a batch naming a (lead, provider) twice.
const batch = fc.uniqueArray(charge, { selector: (c) => chargeKey(c.lead_id, c.provider_id), maxLength: 14 });
const stop = fc.boolean();

/** The wallets and records after the batch's events. */
function applied(before: ReadonlyMap<string, Wallet>, known: ReadonlyMap<string, ChargeRecord>, decision: ReturnType<typeof decideChargeBatch>) {
  const after = new Map(before);
  const records = new Map(known);
  for (const [providerId, events] of decision.events) {
    for (const event of events) after.set(providerId, evolveWallet(after.get(providerId)!, event, after.get(providerId)!.version + 1));
  }
  for (const o of decision.outcomes) if (o.kind === 'decided') records.set(chargeKey(o.charge.lead_id, o.charge.provider_id), o.record);
  return { after, records };
}

describe('decideChargeBatch', () => {
  it('decides each charge in order on the balance the earlier charges left: never below zero, the same decision as decideCharge', () => {
    fc.assert(
      fc.property(wallets, batch, stop, (ws, charges, stopAtFirstDecline) => {
        const decision = decideChargeBatch(charges, { stopAtFirstDecline }, ws, new Map());
        const running = new Map(ws);
        const expected = new Map<string, unknown[]>();
        for (const o of decision.outcomes) {
          if (o.kind !== 'decided') continue;
          const wallet = running.get(o.charge.provider_id)!;
          const event = decideCharge(o.charge, wallet);
          expected.set(o.charge.provider_id, [...(expected.get(o.charge.provider_id) ?? []), event]);
          running.set(o.charge.provider_id, evolveWallet(wallet, event, wallet.version + 1));
          expect(o.record.charged).toBe(o.charge.amount_cents <= wallet.balance_cents);
        }
        for (const [providerId, events] of decision.events) {
          expect(events.map(({ type, data }) => ({ type, data }))).toEqual(expected.get(providerId));
          for (const e of events) if (e.type === 'WalletCharged') expect(e.data.balance_after_cents).toBeGreaterThanOrEqual(0);
        }
        for (const [providerId, wallet] of running) expect(wallet.balance_cents).toBe(ws.get(providerId)!.balance_cents - sumCharged(decision, providerId));
      }),
    );
  });

  it('answers every charge in request order; a provider without a wallet gets no_wallet and no event', () => {
    fc.assert(
      fc.property(wallets, batch, stop, (ws, charges, stopAtFirstDecline) => {
        const decision = decideChargeBatch(charges, { stopAtFirstDecline }, ws, new Map());
        expect(decision.outcomes.map((o) => o.charge)).toEqual(charges);
        for (const o of decision.outcomes) if (o.kind === 'no_wallet') expect(ws.has(o.charge.provider_id)).toBe(false);
        for (const providerId of decision.events.keys()) expect(ws.has(providerId)).toBe(true);
      }),
    );
  });

  it('with stopAtFirstDecline, the charges of other leads after the first decline are not attempted; without it, every charge is', () => {
    fc.assert(
      fc.property(wallets, batch, (ws, charges) => {
        const stopping = decideChargeBatch(charges, { stopAtFirstDecline: true }, ws, new Map());
        const first = stopping.outcomes.findIndex((o) => o.kind === 'decided' && !o.record.charged);
        stopping.outcomes.forEach((o, i) => {
          const stopped = first !== -1 && i > first && o.charge.lead_id !== charges[first]!.lead_id;
          expect(o.kind === 'not_attempted').toBe(stopped);
        });
        const all = decideChargeBatch(charges, { stopAtFirstDecline: false }, ws, new Map());
        expect(all.outcomes.some((o) => o.kind === 'not_attempted')).toBe(false);
        // Up to the first decline, both decide alike.
        expect(all.outcomes.slice(0, first === -1 ? undefined : first + 1)).toEqual(stopping.outcomes.slice(0, first === -1 ? undefined : first + 1));
      }),
    );
  });

  it('a repeated batch, on the wallets and records the first left, decides nothing new and answers the same', () => {
    fc.assert(
      fc.property(wallets, batch, stop, (ws, charges, stopAtFirstDecline) => {
        const first = decideChargeBatch(charges, { stopAtFirstDecline }, ws, new Map());
        const { after, records } = applied(ws, new Map(), first);
        const again = decideChargeBatch(charges, { stopAtFirstDecline }, after, records);
        expect([...again.events.values()].flat()).toEqual([]);
        expect(again.outcomes).toEqual(first.outcomes);
      }),
    );
  });

  it('a decline recorded at one level is decided anew at another level, under an id of that level', () => {
    const wallet: Wallet = { provider_id: 'p0', balance_cents: 300, version: 4 };
    const gold: ChargeCommand = { lead_id: 'l0', provider_id: 'p0', subscription_id: 's', level_id: 'gold', amount_cents: 500 };
    const declined = decideChargeBatch([gold], { stopAtFirstDecline: true }, new Map([['p0', wallet]]), new Map());
    const { after, records } = applied(new Map([['p0', wallet]]), new Map(), declined);
    const bronze = decideChargeBatch([{ ...gold, level_id: 'bronze', amount_cents: 100 }], { stopAtFirstDecline: true }, after, records);
    expect(bronze.outcomes[0]).toMatchObject({ kind: 'decided', record: { charged: true, level_id: 'bronze', balance_cents: 200 } });
    expect(bronze.events.get('p0')?.[0]?.id).not.toBe(declined.events.get('p0')?.[0]?.id);
  });
});

const sumCharged = (decision: ReturnType<typeof decideChargeBatch>, providerId: string) =>
  (decision.events.get(providerId) ?? []).reduce((sum, e) => sum + (e.type === 'WalletCharged' ? e.data.amount_cents : 0), 0);
