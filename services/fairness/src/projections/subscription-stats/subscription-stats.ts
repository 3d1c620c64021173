/**
 * `fairness.subscription_stats`: when each subscription last received a lead and how
 * many it received this UTC day and month. Not a projector: the distribution handler
 * calls recordReceipts in the transaction that appends LeadAssigned, so the order seen by
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
 * Counts assignments. Call it once per LeadAssigned actually appended (not for an
 * idempotent re-append), inside the same transaction. A receipt older than the one
 * stored (a clock step back) never moves last_received_at, the day or the month backwards.
 */
export async function recordReceipts(client: Pick<pg.ClientBase, 'query'>, receipts: readonly Receipt[]): Promise<void> {
  // One statement may touch a row once: a subscription's later receipts go in later waves.
  const waves: Receipt[][] = [];
  const lastWave = new Map<string, number>();
  for (const r of receipts) {
    const wave = (lastWave.get(r.subscription_id) ?? -1) + 1;
    (waves[wave] ??= []).push(r);
    lastWave.set(r.subscription_id, wave);
  }
  for (const wave of waves) await recordWave(client, wave);
}

async function recordWave(client: Pick<pg.ClientBase, 'query'>, receipts: readonly Receipt[]): Promise<void> {
  if (receipts.length === 0) return;
  const at = receipts.map((r) => new Date(r.assigned_at));
  await client.query(
    `insert into fairness.subscription_stats as s
       (subscription_id, provider_id, level_id, last_received_at, last_lead_id, day, day_count, month, month_count)
     select r.subscription_id, r.provider_id, r.level_id, r.at, r.lead_id, r.day::date, 1, r.month, 1
       from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[])
         as r(subscription_id, provider_id, level_id, at, lead_id, day, month)
     on conflict (subscription_id) do update set
       last_received_at = greatest(s.last_received_at, excluded.last_received_at),
       last_lead_id = case when excluded.last_received_at >= s.last_received_at then excluded.last_lead_id else s.last_lead_id end,
       day_count = case when s.day = excluded.day then s.day_count + 1 when s.day < excluded.day then 1 else s.day_count end,
       day = greatest(s.day, excluded.day),
       month_count = case when s.month = excluded.month then s.month_count + 1 when s.month < excluded.month then 1 else s.month_count end,
       month = greatest(s.month, excluded.month)`,
    [
      receipts.map((r) => r.subscription_id),
      receipts.map((r) => r.provider_id),
      receipts.map((r) => r.level_id),
      at,
      receipts.map((r) => r.lead_id),
      at.map(utcDay),
      at.map(utcMonth),
    ],
  );
}

/** Recomputes the table from every LeadAssigned in the store (for repair and audits). */
export async function rebuildSubscriptionStats(store: EventStore, pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  let count = 0;
  try {
    await client.query('begin');
    await client.query('delete from fairness.subscription_stats');
    const receipts: Receipt[] = [];
    for (let from = START; ; ) {
      const batch = await store.readAll(from, 1000, { categories: ['lead'] });
      count += batch.events.filter((e) => e.type === 'LeadAssigned').length;
      for (const event of batch.events) {
        if (event.type !== 'LeadAssigned') continue;
        receipts.push(parseDistributionEvent('LeadAssigned', event.data));
      }
      await recordReceipts(client, receipts.splice(0));
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
