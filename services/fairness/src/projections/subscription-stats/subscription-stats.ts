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
import { NEVER_SERVED } from '../../domain/eligibility';
import { receivedLead, type ServedStats } from '../../domain/served';
import { recordPendingPicks, type PendingPickRow } from './pending-picks';

export interface Receipt {
  subscription_id: string;
  provider_id: string;
  level_id: string;
  lead_id: string;
  assigned_at: string;
}

interface StatsRow {
  subscription_id: string;
  provider_id: string;
  level_id: string;
  last_received_at: Date;
  last_lead_id: string;
  day: string;
  day_count: number;
  month: string;
  month_count: number;
}

/**
 * Counts assignments. Call it once per LeadAssigned actually appended (not for an
 * idempotent re-append), inside the same transaction. The values written are the served
 * rule's (domain/served.ts, receivedLead) applied to the stored row, receipt by receipt: a
 * receipt older than the one stored (a clock step back) never moves last_received_at, the
 * day or the month backwards. The rows are read `for update`; every writer of a
 * subscription's stats holds its niche's distribution lock, so no two compute at once.
 */
export async function recordReceipts(client: Pick<pg.ClientBase, 'query'>, receipts: readonly Receipt[]): Promise<void> {
  if (receipts.length === 0) return;
  const ids = [...new Set(receipts.map((r) => r.subscription_id))];
  const { rows } = await client.query<StatsRow>(
    `select subscription_id, provider_id, level_id, last_received_at, last_lead_id, to_char(day, 'YYYY-MM-DD') as day, day_count, month, month_count
       from fairness.subscription_stats where subscription_id = any($1::text[]) for update`,
    [ids],
  );
  const stats = new Map<string, { provider_id: string; level_id: string; stats: ServedStats }>();
  for (const r of rows) {
    const stored = { lastReceivedAt: r.last_received_at, lastLeadId: r.last_lead_id, day: r.day, dayCount: r.day_count, month: r.month, monthCount: r.month_count };
    stats.set(r.subscription_id, { provider_id: r.provider_id, level_id: r.level_id, stats: stored });
  }
  for (const r of receipts) {
    const entry = stats.get(r.subscription_id) ?? { provider_id: r.provider_id, level_id: r.level_id, stats: { ...NEVER_SERVED, lastLeadId: null } };
    stats.set(r.subscription_id, { ...entry, stats: receivedLead(entry.stats, { at: new Date(r.assigned_at), leadId: r.lead_id }) });
  }
  const moved = [...stats.entries()];
  // A new row takes the provider and level of its first receipt (as before the rule moved here); a stored row keeps its own.
  await client.query(
    `insert into fairness.subscription_stats as s
       (subscription_id, provider_id, level_id, last_received_at, last_lead_id, day, day_count, month, month_count)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::date[], $7::integer[], $8::text[], $9::integer[])
     on conflict (subscription_id) do update set
       last_received_at = excluded.last_received_at, last_lead_id = excluded.last_lead_id,
       day = excluded.day, day_count = excluded.day_count, month = excluded.month, month_count = excluded.month_count`,
    [
      moved.map(([id]) => id),
      moved.map(([, e]) => e.provider_id),
      moved.map(([, e]) => e.level_id),
      moved.map(([, e]) => e.stats.lastReceivedAt),
      moved.map(([, e]) => e.stats.lastLeadId),
      moved.map(([, e]) => e.stats.day),
      moved.map(([, e]) => e.stats.dayCount),
      moved.map(([, e]) => e.stats.month),
      moved.map(([, e]) => e.stats.monthCount),
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
