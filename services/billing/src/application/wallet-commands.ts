/**
 * Money: top-ups, charges and refunds, each one wallet write (see WalletLedger); charges
 * may also come together — one lead's (charge_many) or a batch of leads' (charge_batch,
 * decided in the order given, optionally stopping after the lead of the first decline) — in one
 * transaction over their wallets. A
 * charge is decided once per (lead, provider): the decision is recorded in
 * `billing.charges` in the transaction of its event, and a repeat is answered from there.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { billingCommands, CommandReply } from '@fairlead/contracts';
import type { z } from 'zod';
import { isConcurrencyError } from '@fairlead/event-store';
import { IdempotencyKeyReusedError, ProviderNotFoundError } from '../domain/errors';
import { eventIds } from '../domain/ids';
import { chargeRecordOf, decideCharge, decideRefund, decideTopUp, evolveWallet, type ChargeRecord } from '../domain/wallet';
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
export type ChargeBatchReply = CommandReply<'billing', 'charge_batch'>;
type ChargeBatchResult = ChargeBatchReply['results'][number];

export interface WalletCommands {
  topUp(request: Req<'top_up'>): Promise<ProviderReply>;
  charge(request: Req<'charge'>): Promise<ChargeReply>;
  chargeMany(request: Req<'charge_many'>): Promise<ChargeManyReply>;
  chargeBatch(request: Req<'charge_batch'>): Promise<ChargeBatchReply>;
  refund(request: Req<'refund'>): Promise<ProviderReply>;
}

// bigint columns arrive as strings; parsed here, once per row read (amounts stay far below 2^53).
interface ChargeRow {
  charged: boolean;
  amount_cents: string;
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
  return { lead_id: leadId, provider_id: providerId, charged: row.charged, amount_cents: Number(row.amount_cents), balance_cents: Number(row.balance_cents), refunded: row.refunded_at !== null };
}

/**
 * charge_batch's `stop_at_first_decline`: once a charge is declined, the charges of every
 * other lead after it are skipped (that lead's own charges still go ahead, as charge_many).
 */
function stopAfterFirstDecline(enabled: boolean): { skips(leadId: string): boolean; decided(leadId: string, charged: boolean): void } {
  let declinedLead: string | undefined;
  return {
    skips: (leadId) => declinedLead !== undefined && leadId !== declinedLead,
    decided: (leadId, charged) => {
      if (!charged && enabled) declinedLead ??= leadId;
    },
  };
}

const chargeKey = (leadId: string, providerId: string) => `${leadId}\u0000${providerId}`;

/** The decisions already recorded for these (lead, provider) pairs, by chargeKey. */
async function findChargesOf(db: Pick<pg.ClientBase, 'query'>, pairs: readonly { lead_id: string; provider_id: string }[]): Promise<Map<string, ChargeRecord>> {
  const { rows } = await db.query<ChargeRow & { lead_id: string; provider_id: string }>(
    `select c.lead_id, c.provider_id, c.charged, c.amount_cents, c.balance_cents, c.refunded_at
       from billing.charges c
       join unnest($1::text[], $2::text[]) as p(lead_id, provider_id) using (lead_id, provider_id)`,
    [pairs.map((p) => p.lead_id), pairs.map((p) => p.provider_id)],
  );
  return new Map(
    rows.map((row) => [
      chargeKey(row.lead_id, row.provider_id),
      { lead_id: row.lead_id, provider_id: row.provider_id, charged: row.charged, amount_cents: Number(row.amount_cents), balance_cents: Number(row.balance_cents), refunded: row.refunded_at !== null },
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

  const chargeBatch = async (r: Req<'charge_batch'>): Promise<ChargeBatchReply> => {
    const providerIds = [...new Set(r.charges.map((c) => c.provider_id))];
    const unknown = (c: { lead_id: string; provider_id: string }): ChargeBatchResult => {
      const error = new ProviderNotFoundError(c.provider_id);
      return { lead_id: c.lead_id, provider_id: c.provider_id, error: { code: error.code, message: error.message } };
    };
    try {
      return await ledger.writeMany(
        providerIds,
        async (wallets, tx) => {
          // Repeats (a retried distribution) are answered from the record, as `charge` does.
          const known = await findChargesOf(tx, r.charges);
          const events = new Map<string, { id: string; event: ReturnType<typeof decideCharge>; metadata: Record<string, unknown> }[]>();
          const fresh: { charge: (typeof r.charges)[number]; record: ChargeRecord }[] = [];
          // Balances move from one charge to the next: a provider may be charged for several leads.
          const balances = new Map(wallets);
          const stop = stopAfterFirstDecline(r.stop_at_first_decline);
          const results = r.charges.map((c): ChargeBatchResult => {
            if (stop.skips(c.lead_id)) return { lead_id: c.lead_id, provider_id: c.provider_id, not_attempted: true };
            const wallet = balances.get(c.provider_id);
            if (!wallet) return unknown(c);
            let record = known.get(chargeKey(c.lead_id, c.provider_id));
            if (!record) {
              const event = decideCharge(c, wallet);
              record = chargeRecordOf(event);
              const decided = events.get(c.provider_id) ?? [];
              decided.push({ id: eventIds.charge(c.lead_id, c.provider_id), event, metadata: { lead_id: c.lead_id, subscription_id: c.subscription_id } });
              events.set(c.provider_id, decided);
              balances.set(c.provider_id, evolveWallet(wallet, event, wallet.version + 1));
              fresh.push({ charge: c, record });
            }
            stop.decided(c.lead_id, record.charged);
            return chargeReply(record);
          });
          return {
            events,
            alongside: async (t) => {
              if (fresh.length === 0) return;
              await t.query(
                `insert into billing.charges (lead_id, provider_id, subscription_id, level_id, charged, amount_cents, balance_cents)
                 select c.lead_id, c.provider_id, c.subscription_id, c.level_id, c.charged, c.amount_cents, c.balance_cents
                   from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::bigint[], $7::bigint[])
                     as c(lead_id, provider_id, subscription_id, level_id, charged, amount_cents, balance_cents)`,
                [
                  fresh.map((f) => f.charge.lead_id),
                  fresh.map((f) => f.charge.provider_id),
                  fresh.map((f) => f.charge.subscription_id),
                  fresh.map((f) => f.charge.level_id),
                  fresh.map((f) => f.record.charged),
                  fresh.map((f) => f.record.amount_cents),
                  fresh.map((f) => f.record.balance_cents),
                ],
              );
            },
            result: () => ({ results }),
          };
        },
        () => ({}),
      );
    } catch (error) {
      if (!isConcurrencyError(error)) throw error;
      // A wallet row out of step with its stream: charged one by one, each write rebuilds its row.
      const results: ChargeBatchResult[] = [];
      const stop = stopAfterFirstDecline(r.stop_at_first_decline);
      for (const c of r.charges) {
        if (stop.skips(c.lead_id)) {
          results.push({ lead_id: c.lead_id, provider_id: c.provider_id, not_attempted: true });
          continue;
        }
        try {
          const reply = await charge(c);
          results.push(reply);
          stop.decided(c.lead_id, reply.charged);
        } catch (chargeError) {
          if (!(chargeError instanceof ProviderNotFoundError)) throw chargeError;
          results.push(unknown(c));
        }
      }
      return { results };
    }
  };

  return {
    topUp: async (r) => {
      const key = r.idempotency_key;
      await ledger.write(
        r.provider_id,
        async (wallet, tx) => {
          if (key !== undefined) {
            // Under the wallet's lock: a concurrent retry of the same request waits here and finds the first.
            const { rows } = await tx.query<{ amount_cents: string; reference: string }>(
              'select amount_cents, reference from billing.top_ups where provider_id = $1 and idempotency_key = $2',
              [r.provider_id, key],
            );
            const earlier = rows[0];
            if (earlier) {
              if (Number(earlier.amount_cents) !== r.amount_cents || earlier.reference !== r.reference) throw new IdempotencyKeyReusedError(r.provider_id, key);
              return { events: [], result: () => undefined };
            }
          }
          const id = key !== undefined ? eventIds.topUp(r.provider_id, key) : newId();
          return {
            events: [{ id, event: decideTopUp(r, wallet) }],
            ...(key !== undefined
              ? {
                  alongside: async (t: pg.PoolClient) => {
                    await t.query('insert into billing.top_ups (provider_id, idempotency_key, amount_cents, reference, event_id) values ($1, $2, $3, $4, $5)', [
                      r.provider_id,
                      key,
                      r.amount_cents,
                      r.reference,
                      id,
                    ]);
                  },
                }
              : {}),
            result: () => undefined,
          };
        },
        { actor: r.actor, ...(key !== undefined ? { idempotency_key: key } : {}) },
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
