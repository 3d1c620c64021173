/**
 * Money: top-ups, charges and refunds, each one command of the wallet decider
 * (WalletLedger.write); charges may also come together — one lead's (charge_many) or a
 * batch of leads' (charge_batch, decided in the order given by decideChargeBatch,
 * optionally stopping after the lead of the first decline) — committed together over their
 * wallets (WalletLedger.chargeBatch: usually two statements, no transaction). A charge is decided once per (lead, provider): the decision is recorded in
 * `billing.charges` in the transaction of its event, and a repeat is answered from there —
 * except that a decline binds its level only: a request for another level of the same lead
 * is decided anew and replaces the row (answersCharge).
 */
import type pg from 'pg';
import type { billingCommands, CommandReply } from '@fairlead/contracts';
import type { z } from 'zod';
import { ProviderNotFoundError } from '../domain/errors';
import type { BatchChargeOutcome, ChargeRecord } from '../domain/wallet';
import { recordCharges } from './charge-records';
import type { ProviderCommands, ProviderReply } from './provider-commands';
import type { ChargeBatchOutcome, WalletLedger } from './wallet-ledger';

type Req<V extends keyof typeof billingCommands> = z.output<(typeof billingCommands)[V]['request']>;
export type ChargeReply = CommandReply<'billing', 'charge'>;

export interface WalletCommandsDeps {
  pool: pg.Pool;
  ledger: WalletLedger;
  providers: ProviderCommands;
}

export type ChargeManyReply = CommandReply<'billing', 'charge_many'>;
type ChargeManyResult = ChargeManyReply['results'][number];
export type ChargeBatchReply = CommandReply<'billing', 'charge_batch'>;
type ChargeBatchResult = ChargeBatchReply['results'][number];

export interface WalletCommands {
  topUp(request: Req<'top_up'>): Promise<ProviderReply>;
  charge(request: Req<'charge'>): Promise<ChargeReply>;
  chargeMany(request: Req<'charge_many'>): Promise<ChargeManyReply>;
  chargeBatch(request: Req<'charge_batch'>): Promise<ChargeBatchReply>;
  refund(request: Req<'refund'>): Promise<ProviderReply>;
}

const chargeReply = (c: ChargeRecord): ChargeReply =>
  c.charged
    ? { charged: true, provider_id: c.provider_id, lead_id: c.lead_id, amount_cents: c.amount_cents, balance_after_cents: c.balance_cents }
    : { charged: false, provider_id: c.provider_id, lead_id: c.lead_id, amount_cents: c.amount_cents, balance_cents: c.balance_cents, reason: 'insufficient_balance' };

function batchResult(outcome: BatchChargeOutcome): ChargeBatchResult {
  const { lead_id, provider_id } = outcome.charge;
  switch (outcome.kind) {
    case 'decided':
      return chargeReply(outcome.record);
    case 'not_attempted':
      return { lead_id, provider_id, not_attempted: true };
    case 'no_wallet': {
      const error = new ProviderNotFoundError(provider_id);
      return { lead_id, provider_id, error: { code: error.code, message: error.message } };
    }
  }
}

export function createWalletCommands(deps: WalletCommandsDeps): WalletCommands {
  const { ledger, providers } = deps;

  const charge = async (r: Req<'charge'>): Promise<ChargeReply> => {
    // A repeat (a retried distribution) is answered from the record found under the
    // wallet's lock; a look before taking the lock would cost every first charge (nearly
    // all of them) one more round trip.
    const outcome = await ledger.write(
      { type: 'charge', ...r },
      { metadata: { lead_id: r.lead_id, subscription_id: r.subscription_id }, alongside: (tx, { events }) => recordCharges(tx, events) },
    );
    return chargeReply(outcome.state.charges.get(r.lead_id)!);
  };

  const chargeBatch = async (r: Req<'charge_batch'>): Promise<ChargeBatchReply> => {
    // The ledger records the batch's decisions in billing.charges with its events.
    const outcome: ChargeBatchOutcome = await ledger.chargeBatch(r.charges, r.stop_at_first_decline);
    return { results: outcome.decision.outcomes.map(batchResult) };
  };

  return {
    topUp: async (r) => {
      const key = r.idempotency_key;
      await ledger.write(
        { type: 'top_up', ...r },
        {
          metadata: { actor: r.actor },
          ...(key !== undefined
            ? {
                // Under the wallet's lock: a concurrent retry of the same request waits for it and finds this row.
                alongside: async (tx, { events }) => {
                  await tx.query('insert into billing.top_ups (provider_id, idempotency_key, amount_cents, reference, event_id) values ($1, $2, $3, $4, $5)', [
                    r.provider_id,
                    key,
                    r.amount_cents,
                    r.reference,
                    events[0]!.id,
                  ]);
                },
              }
            : {}),
        },
      );
      return providers.reply(r.provider_id);
    },

    charge,

    chargeMany: async (r) => {
      // One lead's charges are a batch of one lead, every charge attempted.
      const { results } = await chargeBatch({ charges: r.charges.map((c) => ({ ...c, lead_id: r.lead_id })), stop_at_first_decline: false });
      return {
        results: results.map((item): ChargeManyResult => {
          if ('error' in item) return { provider_id: item.provider_id, error: item.error };
          if ('not_attempted' in item) throw new Error('charge_many never stops early');
          return item;
        }),
      };
    },

    chargeBatch,

    refund: async (r) => {
      await ledger.write(
        { type: 'refund', ...r },
        {
          metadata: { actor: r.actor, lead_id: r.lead_id },
          alongside: async (tx) => {
            await tx.query('update billing.charges set refunded_at = now() where lead_id = $1 and provider_id = $2', [r.lead_id, r.provider_id]);
          },
        },
      );
      return providers.reply(r.provider_id);
    },
  };
}
