/**
 * `fairness.subscription_stats`: when each subscription last received a lead and how
 * many it received this UTC day and month. Not a projector: the distribution handler
 * calls recordReceipt in the transaction that appends LeadAssigned, so the order seen by
 * the next lead of the niche is exact. `rebuildSubscriptionStats` derives it again from
 * the LeadAssigned events alone.
 */
import type pg from 'pg';
import { parseDistributionEvent } from '@fairlead/contracts';
import type { EventStore } from '@fairlead/event-store';
import { START } from '@fairlead/event-store';
import { utcDay, utcMonth } from '../../domain/eligibility';

export interface Receipt {
  subscription_id: string;
  provider_id: string;
  level_id: string;
  lead_id: string;
  assigned_at: string;
}

/**
 * Counts one assignment. Call it once per LeadAssigned actually appended (not for an
 * idempotent re-append), inside the same transaction. An older receipt than the one
 * stored (a rebuild out of order cannot happen, but a clock step back can) never moves
 * last_received_at backwards.
 */
export async function recordReceipt(client: Pick<pg.ClientBase, 'query'>, receipt: Receipt): Promise<void> {
  const at = new Date(receipt.assigned_at);
  await client.query(
    `insert into fairness.subscription_stats as s
       (subscription_id, provider_id, level_id, last_received_at, last_lead_id, day, day_count, month, month_count)
     values ($1, $2, $3, $4, $5, $6::date, 1, $7, 1)
     on conflict (subscription_id) do update set
       last_received_at = greatest(s.last_received_at, excluded.last_received_at),
       last_lead_id = case when excluded.last_received_at >= s.last_received_at then excluded.last_lead_id else s.last_lead_id end,
       day_count = case when s.day = excluded.day then s.day_count + 1 when s.day < excluded.day then 1 else s.day_count end,
       day = greatest(s.day, excluded.day),
       month_count = case when s.month = excluded.month then s.month_count + 1 when s.month < excluded.month then 1 else s.month_count end,
       month = greatest(s.month, excluded.month)`,
    [receipt.subscription_id, receipt.provider_id, receipt.level_id, at, receipt.lead_id, utcDay(at), utcMonth(at)],
  );
}

/** Recomputes the table from every LeadAssigned in the store (for repair and audits). */
export async function rebuildSubscriptionStats(store: EventStore, pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  let count = 0;
  try {
    await client.query('begin');
    await client.query('delete from fairness.subscription_stats');
    for (let from = START; ; ) {
      const batch = await store.readAll(from, 1000, { categories: ['lead'] });
      for (const event of batch.events) {
        if (event.type !== 'LeadAssigned') continue;
        const d = parseDistributionEvent('LeadAssigned', event.data);
        await recordReceipt(client, d);
        count++;
      }
      if (batch.checkpoint.globalPosition === from.globalPosition && batch.checkpoint.transactionId === from.transactionId) break;
      from = batch.checkpoint;
    }
    await client.query('commit');
    return count;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
