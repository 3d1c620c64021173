/**
 * Money: top-ups, charges and refunds, each one wallet write (see WalletLedger); a lead's
 * charges may also come together (charge_many: one transaction over their wallets). A
 * charge is decided once per (lead, provider): the decision is recorded in
 * `billing.charges` in the transaction of its event, and a repeat is answered from there.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { billingCommands, CommandReply } from '@fairlead/contracts';
import type { z } from 'zod';
import { isConcurrencyError } from '@fairlead/event-store';
import { ProviderNotFoundError } from '../domain/errors';
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

export type ChargeManyReply = CommandReply<'billing', 'charge_many'>;
type ChargeManyResult = ChargeManyReply['results'][number];

export interface WalletCommands {
  topUp(request: Req<'top_up'>): Promise<ProviderReply>;
  charge(request: Req<'charge'>): Promise<ChargeReply>;
  chargeMany(request: Req<'charge_many'>): Promise<ChargeManyReply>;
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

/** The decisions already recorded for this lead with these providers, by provider. */
async function findCharges(db: Pick<pg.ClientBase, 'query'>, leadId: string, providerIds: readonly string[]): Promise<Map<string, ChargeRecord>> {
  const { rows } = await db.query<ChargeRow & { provider_id: string }>(
    'select provider_id, charged, amount_cents, balance_cents, refunded_at from billing.charges where lead_id = $1 and provider_id = any($2::text[])',
    [leadId, providerIds],
  );
  return new Map(
    rows.map((row) => [
      row.provider_id,
      { lead_id: leadId, provider_id: row.provider_id, charged: row.charged, amount_cents: row.amount_cents, balance_cents: Number(row.balance_cents), refunded: row.refunded_at !== null },
    ]),
  );
}

const chargeReply = (c: ChargeRecord): ChargeReply =>
  c.charged
    ? { charged: true, provider_id: c.provider_id, lead_id: c.lead_id, amount_cents: c.amount_cents, balance_after_cents: c.balance_cents }
    : { charged: false, provider_id: c.provider_id, lead_id: c.lead_id, amount_cents: c.amount_cents, balance_cents: c.balance_cents, reason: 'insufficient_balance' };

export function createWalletCommands(deps: WalletCommandsDeps): WalletCommands {
  const { ledger, providers } = deps;
  const newId = deps.newId ?? randomUUID;

  const charge = async (r: Req<'charge'>): Promise<ChargeReply> => {
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
  };

  return {
    topUp: async (r) => {
      await ledger.write(r.provider_id, (wallet) => ({ events: [{ id: newId(), event: decideTopUp(r, wallet) }], result: () => undefined }), { actor: r.actor });
      return providers.reply(r.provider_id);
    },

    charge,

    chargeMany: async (r) => {
      const providerIds = r.charges.map((c) => c.provider_id);
      const unknown = (providerId: string): ChargeManyResult => {
        const error = new ProviderNotFoundError(providerId);
        return { provider_id: providerId, error: { code: error.code, message: error.message } };
      };
      try {
        return await ledger.writeMany(
          providerIds,
          async (wallets, tx) => {
            // Repeats (a retried distribution) are answered from the record, as `charge` does.
            const known = await findCharges(tx, r.lead_id, providerIds);
            const events = new Map<string, { id: string; event: ReturnType<typeof decideCharge> }[]>();
            const decided = new Map<string, ChargeRecord>(known);
            for (const c of r.charges) {
              const wallet = wallets.get(c.provider_id);
              if (!wallet || known.has(c.provider_id)) continue;
              const event = decideCharge({ ...c, lead_id: r.lead_id }, wallet);
              events.set(c.provider_id, [{ id: eventIds.charge(r.lead_id, c.provider_id), event }]);
              decided.set(c.provider_id, chargeRecordOf(event));
            }
            const fresh = r.charges.filter((c) => events.has(c.provider_id));
            return {
              events,
              alongside: async (t) => {
                await t.query(
                  `insert into billing.charges (lead_id, provider_id, subscription_id, level_id, charged, amount_cents, balance_cents)
                   select $1, c.provider_id, c.subscription_id, c.level_id, c.charged, c.amount_cents, c.balance_cents
                     from unnest($2::text[], $3::text[], $4::text[], $5::boolean[], $6::integer[], $7::bigint[])
                       as c(provider_id, subscription_id, level_id, charged, amount_cents, balance_cents)`,
                  [
                    r.lead_id,
                    fresh.map((c) => c.provider_id),
                    fresh.map((c) => c.subscription_id),
                    fresh.map((c) => c.level_id),
                    fresh.map((c) => decided.get(c.provider_id)!.charged),
                    fresh.map((c) => decided.get(c.provider_id)!.amount_cents),
                    fresh.map((c) => decided.get(c.provider_id)!.balance_cents),
                  ],
                );
              },
              result: () => ({ results: r.charges.map((c) => (decided.has(c.provider_id) ? chargeReply(decided.get(c.provider_id)!) : unknown(c.provider_id))) }),
            };
          },
          (providerId) => ({ lead_id: r.lead_id, subscription_id: r.charges.find((c) => c.provider_id === providerId)!.subscription_id }),
        );
      } catch (error) {
        if (!isConcurrencyError(error)) throw error;
        // A wallet row out of step with its stream: charged one by one, each write rebuilds its row.
        const results: ChargeManyResult[] = [];
        for (const c of r.charges) {
          try {
            results.push(await charge({ ...c, lead_id: r.lead_id }));
          } catch (chargeError) {
            if (!(chargeError instanceof ProviderNotFoundError)) throw chargeError;
            results.push(unknown(c.provider_id));
          }
        }
        return { results };
      }
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
