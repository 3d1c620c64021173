/**
 * Billing's arithmetic over the whole range the contracts accept (MONEY_LIMITS), as
 * properties: any run of top-ups, charges and refunds leaves exactly the balance exact
 * integer arithmetic (BigInt) gives, never below zero nor above the maximum; every event
 * decided validates against its contract; a movement past the maximum is refused, never
 * rounded. fast-check prints the shrunk failing run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MONEY_LIMITS, parseDistributionEvent, SYSTEM_ACTOR } from '@fairlead/contracts';
import { BalanceLimitExceededError } from './errors';
import { chargeRecordOf, decideCharge, decideRefund, decideTopUp, evolveWallet, type ChargeRecord, type Wallet, type WalletEvent } from './wallet';

const { maxBalanceCents, maxPriceCents, maxTopUpCents } = MONEY_LIMITS;

/** Amounts biased to the edges of their range, where rounding and overflow live. */
const amount = (min: number, max: number) => fc.oneof(fc.constantFrom(min, min + 1, max - 1, max), fc.integer({ min, max }));

type Op = { kind: 'top_up'; amount: number } | { kind: 'charge'; amount: number } | { kind: 'refund'; pick: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  amount(1, maxTopUpCents).map((a) => ({ kind: 'top_up' as const, amount: a })),
  amount(0, maxPriceCents).map((a) => ({ kind: 'charge' as const, amount: a })),
  fc.nat().map((pick) => ({ kind: 'refund' as const, pick })),
);

/** A wallet that already holds any balance in range (as if many movements came before). */
const wallet = amount(0, maxBalanceCents).map((balance): Wallet => ({ provider_id: 'p1', balance_cents: balance, version: 7 }));

function checkEvent(event: WalletEvent): void {
  // The contract is what every read side is built to hold: each decided event must pass it.
  parseDistributionEvent(event.type, event.data);
}

describe('billing arithmetic over the money bounds (property)', () => {
  it('any run of top-ups, charges and refunds keeps the exact balance, within [0, max], every event valid', () => {
    fc.assert(
      fc.property(wallet, fc.array(op, { maxLength: 40 }), (start, ops) => {
        let w = start;
        let model = BigInt(start.balance_cents);
        const charges: ChargeRecord[] = [];
        ops.forEach((o, i) => {
          if (o.kind === 'top_up') {
            const after = model + BigInt(o.amount);
            if (after > BigInt(maxBalanceCents)) {
              expect(() => decideTopUp({ amount_cents: o.amount, reference: 'r', actor: SYSTEM_ACTOR }, w)).toThrow(BalanceLimitExceededError);
              return;
            }
            const event = decideTopUp({ amount_cents: o.amount, reference: 'r', actor: SYSTEM_ACTOR }, w);
            checkEvent(event);
            model = after;
            w = evolveWallet(w, event, w.version + 1);
          } else if (o.kind === 'charge') {
            const event = decideCharge({ provider_id: 'p1', lead_id: `lead-${i}`, subscription_id: 's', level_id: 'l', amount_cents: o.amount }, w);
            checkEvent(event);
            expect(event.type).toBe(BigInt(o.amount) <= model ? 'WalletCharged' : 'WalletChargeDeclined');
            if (event.type === 'WalletCharged') model -= BigInt(o.amount);
            charges.push(chargeRecordOf(event));
            w = evolveWallet(w, event, w.version + 1);
          } else {
            const refundable = charges.filter((c) => c.charged && !c.refunded && c.amount_cents > 0);
            const charge = refundable[o.pick % Math.max(1, refundable.length)];
            if (!charge) return;
            const after = model + BigInt(charge.amount_cents);
            const decide = () => decideRefund({ lead_id: charge.lead_id, reason: 'returned', actor: SYSTEM_ACTOR }, w, charge);
            if (after > BigInt(maxBalanceCents)) {
              expect(decide).toThrow(BalanceLimitExceededError);
              return;
            }
            const event = decide();
            checkEvent(event);
            charge.refunded = true;
            model = after;
            w = evolveWallet(w, event, w.version + 1);
          }
          expect(BigInt(w.balance_cents)).toBe(model);
          expect(Number.isSafeInteger(w.balance_cents)).toBe(true);
          expect(w.balance_cents).toBeGreaterThanOrEqual(0);
          expect(w.balance_cents).toBeLessThanOrEqual(maxBalanceCents);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('the report’s case: 9,007,199,254,740,981 cents cannot be topped up (refused at the contract), and the balance near the maximum stays exact', () => {
    expect(() => parseDistributionEvent('WalletToppedUp', { provider_id: 'p1', amount_cents: 9_007_199_254_740_981, balance_after_cents: 9_007_199_254_740_981, reference: 'r', actor: SYSTEM_ACTOR })).toThrow();
    const full: Wallet = { provider_id: 'p1', balance_cents: maxBalanceCents - 1_001, version: 0 };
    expect(decideTopUp({ amount_cents: 1_001, reference: 'r', actor: SYSTEM_ACTOR }, full).data.balance_after_cents).toBe(maxBalanceCents);
    expect(() => decideTopUp({ amount_cents: 1_002, reference: 'r', actor: SYSTEM_ACTOR }, full)).toThrow(BalanceLimitExceededError);
  });
});
