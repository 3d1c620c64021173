/**
 * `fairness.subscription_stats`: when each subscription last received a lead and how
 * many it received this UTC day and month. Not a projector: the distribution handler
 * calls recordReceipts in the transaction that appends LeadAssigned, so the order seen by
 * the next lead of the niche is exact. With `fairness.pending_picks` (pending-picks.ts) it
 * is the served view; `rebuildServedView` derives both again from the log.
 */
import type pg from 'pg';
import { parseDistributionEvent } from '@fairlead/contracts';
import type { EventStore } from '@fairlead/event-store';
import { START } from '@fairlead/event-store';
import { utcDay, utcMonth } from '../../domain/eligibility';
import { recordPendingPicks, type PendingPickRow } from './pending-picks';

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

/**
 * Recomputes the served view — `fairness.subscription_stats` from every LeadAssigned and
 * `fairness.pending_picks` from every pick no later event answered — from the log, in the
 * caller's transaction. A waiting pick recorded before pending_picks existed gets the time
 * its ProvidersSelected was stored as its served time. Returns the assignments counted.
 */
export async function rebuildServedView(store: EventStore, client: pg.ClientBase): Promise<number> {
  await client.query('delete from fairness.subscription_stats');
  await client.query('delete from fairness.pending_picks');
  const waiting = new Map<string, PendingPickRow>();
  const key = (lead: string, provider: string, level: string) => `${lead}\u0000${provider}\u0000${level}`;
  let count = 0;
  for (let from = START; ; ) {
    const batch = await store.readAll(from, 1000, { categories: ['lead'] });
    const receipts: Receipt[] = [];
    for (const event of batch.events) {
      switch (event.type) {
        case 'LeadAssigned': {
          const d = parseDistributionEvent('LeadAssigned', event.data);
          receipts.push(d);
          waiting.delete(key(d.lead_id, d.provider_id, d.level_id));
          break;
        }
        case 'ProviderSkipped': {
          const d = parseDistributionEvent('ProviderSkipped', event.data);
          waiting.delete(key(d.lead_id, d.provider_id, d.level_id));
          break;
        }
        case 'PicksWithdrawn': {
          const d = parseDistributionEvent('PicksWithdrawn', event.data);
          for (const p of d.picks) waiting.delete(key(d.lead_id, p.provider_id, p.level_id));
          break;
        }
        case 'ProvidersSelected': {
          const d = parseDistributionEvent('ProvidersSelected', event.data);
          for (const p of d.picks) {
            const k = key(d.lead_id, p.provider_id, d.level_id);
            if (!waiting.has(k)) waiting.set(k, { lead_id: d.lead_id, provider_id: p.provider_id, level_id: d.level_id, subscription_id: p.subscription_id, served_at: event.createdAt });
          }
          break;
        }
      }
    }
    count += receipts.length;
    await recordReceipts(client, receipts);
    if (batch.checkpoint.globalPosition === from.globalPosition && batch.checkpoint.transactionId === from.transactionId) break;
    from = batch.checkpoint;
  }
  await recordPendingPicks(client, [...waiting.values()]);
  return count;
}

/** Recomputes the served view from the log in a transaction of its own (for repair and audits). */
export async function rebuildSubscriptionStats(store: EventStore, pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const count = await rebuildServedView(store, client);
    await client.query('update fairness.served_view_state set rebuilt_at = now()');
    await client.query('commit');
    return count;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Rebuilds the served view once after the migration that added pending_picks (picks
 * recorded before it are in the log only). Instances starting together wait for the first.
 */
export async function ensureServedViewRebuilt(store: EventStore, pool: pg.Pool): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query<{ rebuilt_at: Date | null }>('select rebuilt_at from fairness.served_view_state for update');
    if (rows[0]?.rebuilt_at) {
      await client.query('commit');
      return false;
    }
    await rebuildServedView(store, client);
    await client.query('update fairness.served_view_state set rebuilt_at = now()');
    await client.query('commit');
    return true;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
