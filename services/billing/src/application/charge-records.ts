/**
 * `billing.charges`: one row per (lead, provider), the latest decision of each, written in
 * the transaction (or the statement) of its WalletCharged / WalletChargeDeclined event. A
 * repeated charge is answered from it. A new decision after a decline at another level
 * replaces the row (answersCharge decided it may be taken anew); a charge taken is never
 * replaced. billing.write_charge_batch (schema.ts, migration 4) writes the same rows the same
 * way for a batch written in one statement.
 */
import type pg from 'pg';
import { chargeKey, chargeRecordOf, type ChargeRecord } from '../domain/wallet';
import type { DecidedWalletEvent } from '../domain/wallet.decider';

const REPLACE_DECLINE = `on conflict (lead_id, provider_id) do update set
   subscription_id = excluded.subscription_id, level_id = excluded.level_id, charged = excluded.charged,
   amount_cents = excluded.amount_cents, balance_cents = excluded.balance_cents, decided_at = now()
 where not billing.charges.charged`;

/** The rows of the charge decisions among `events`, as columns: the latest decision per (lead, provider). */
export function chargeColumnsOf(events: readonly DecidedWalletEvent[]) {
  const latest = new Map<string, { subscription_id: string; record: ChargeRecord }>();
  for (const event of events) {
    if (event.type !== 'WalletCharged' && event.type !== 'WalletChargeDeclined') continue;
    latest.set(chargeKey(event.data.lead_id, event.data.provider_id), { subscription_id: event.data.subscription_id, record: chargeRecordOf(event) });
  }
  const rows = [...latest.values()];
  return {
    count: rows.length,
    lead_ids: rows.map((r) => r.record.lead_id),
    provider_ids: rows.map((r) => r.record.provider_id),
    subscription_ids: rows.map((r) => r.subscription_id),
    level_ids: rows.map((r) => r.record.level_id),
    charged: rows.map((r) => r.record.charged),
    amounts: rows.map((r) => r.record.amount_cents),
    balances: rows.map((r) => r.record.balance_cents),
  };
}

/** Records the charge decisions among `events` in `billing.charges`, in the caller's transaction. */
export async function recordCharges(tx: pg.ClientBase, events: readonly DecidedWalletEvent[]): Promise<void> {
  const c = chargeColumnsOf(events);
  if (c.count === 0) return;
  await tx.query({
    name: 'billing.record_charges',
    text: `insert into billing.charges (lead_id, provider_id, subscription_id, level_id, charged, amount_cents, balance_cents)
     select c.lead_id, c.provider_id, c.subscription_id, c.level_id, c.charged, c.amount_cents, c.balance_cents
       from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::bigint[], $7::bigint[])
         as c(lead_id, provider_id, subscription_id, level_id, charged, amount_cents, balance_cents)
     ${REPLACE_DECLINE}`,
    values: [c.lead_ids, c.provider_ids, c.subscription_ids, c.level_ids, c.charged, c.amounts, c.balances],
  });
}
