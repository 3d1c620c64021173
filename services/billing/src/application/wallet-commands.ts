/**
 * Money: top-ups, charges and refunds, each one wallet write (see WalletLedger). A charge
 * is decided once per (lead, provider): the decision is recorded in `billing.charges` in
 * the transaction of its event, and a repeat is answered from there.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { billingCommands, CommandReply } from '@fairlead/contracts';
import type { z } from 'zod';
import { eventIds } from '../domain/ids';
import { chargeRecordOf, decideCharge, decideRefund, decideTopUp, type ChargeRecord } from '../domain/wallet';
import type { ProviderCommands, ProviderReply } from './provider-commands';
import type { WalletLedger } from './wallet-ledger';

type Req<V extends keyof typeof billingCommands> = z.output<(typeof billingCommands)[V]['request']>;
export type ChargeReply = CommandReply<'billing', 'charge'>;

export interface WalletCommandsDeps {
  pool: pg.Pool;
  ledger: WalletLedger;
  providers: ProviderCommands;
  newId?: () => string;
}

export interface WalletCommands {
  topUp(request: Req<'top_up'>): Promise<ProviderReply>;
  charge(request: Req<'charge'>): Promise<ChargeReply>;
  refund(request: Req<'refund'>): Promise<ProviderReply>;
}

interface ChargeRow {
  charged: boolean;
  amount_cents: number;
  balance_cents: string;
  refunded_at: Date | null;
}

async function findCharge(db: Pick<pg.ClientBase, 'query'>, leadId: string, providerId: string, lock = false): Promise<ChargeRecord | undefined> {
  const { rows } = await db.query<ChargeRow>(
    `select charged, amount_cents, balance_cents, refunded_at from billing.charges where lead_id = $1 and provider_id = $2${lock ? ' for update' : ''}`,
    [leadId, providerId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { lead_id: leadId, provider_id: providerId, charged: row.charged, amount_cents: row.amount_cents, balance_cents: Number(row.balance_cents), refunded: row.refunded_at !== null };
}

const chargeReply = (c: ChargeRecord): ChargeReply =>
  c.charged
    ? { charged: true, provider_id: c.provider_id, lead_id: c.lead_id, amount_cents: c.amount_cents, balance_after_cents: c.balance_cents }
    : { charged: false, provider_id: c.provider_id, lead_id: c.lead_id, amount_cents: c.amount_cents, balance_cents: c.balance_cents, reason: 'insufficient_balance' };

export function createWalletCommands(deps: WalletCommandsDeps): WalletCommands {
  const { ledger, providers } = deps;
  const newId = deps.newId ?? randomUUID;

  return {
    topUp: async (r) => {
      await ledger.write(r.provider_id, (wallet) => ({ events: [{ id: newId(), event: decideTopUp(r, wallet) }], result: () => undefined }), { actor: r.actor });
      return providers.reply(r.provider_id);
    },

    charge: async (r) => {
      // A repeat (a retried distribution) is answered from the record found under the
      // wallet's lock; a look before taking the lock would cost every first charge (nearly
      // all of them) one more round trip.
      return ledger.write(
        r.provider_id,
        async (wallet, tx) => {
          const again = await findCharge(tx, r.lead_id, r.provider_id);
          if (again) return { events: [], result: () => chargeReply(again) };
          const event = decideCharge(r, wallet);
          const record = chargeRecordOf(event);
          return {
            events: [{ id: eventIds.charge(r.lead_id, r.provider_id), event }],
            alongside: async (t) => {
              await t.query(
                `insert into billing.charges (lead_id, provider_id, subscription_id, level_id, charged, amount_cents, balance_cents)
                 values ($1, $2, $3, $4, $5, $6, $7)`,
                [r.lead_id, r.provider_id, r.subscription_id, r.level_id, record.charged, record.amount_cents, record.balance_cents],
              );
            },
            result: () => chargeReply(record),
          };
        },
        { lead_id: r.lead_id, subscription_id: r.subscription_id },
      );
    },

    refund: async (r) => {
      await ledger.write(
        r.provider_id,
        async (wallet, tx) => {
          const event = decideRefund(r, wallet, await findCharge(tx, r.lead_id, r.provider_id, true));
          return {
            events: [{ id: eventIds.refund(r.lead_id, r.provider_id), event }],
            alongside: async (t) => {
              await t.query('update billing.charges set refunded_at = now() where lead_id = $1 and provider_id = $2', [r.lead_id, r.provider_id]);
            },
            result: () => undefined,
          };
        },
        { actor: r.actor, lead_id: r.lead_id },
      );
      return providers.reply(r.provider_id);
    },
  };
}
