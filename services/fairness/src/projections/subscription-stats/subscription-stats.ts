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
import { boundParameters, START, type BindParameter } from '@fairlead/event-store';
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

/** A `fairness.subscription_stats` row as read for counting receipts. */
export interface StatsRow {
  subscription_id: string;
  provider_id: string;
  level_id: string;
  last_received_at: Date;
  last_lead_id: string;
  day: string;
  day_count: number;
  month: string;
  month_count: number;
  /** The row version read (its xmin), for a write that must find it unchanged. */
  seen: string;
}

/** A subscription's stats after the receipts, and the row version they were computed on (null: no row yet). */
interface MovedStats {
  subscription_id: string;
  provider_id: string;
  level_id: string;
  stats: ServedStats;
  seen: string | null;
}

/** The stored stats of the receipts' subscriptions (`for update`: locked until the transaction ends). */
async function storedStats(client: Pick<pg.ClientBase, 'query'>, receipts: readonly Receipt[], lock: boolean): Promise<StatsRow[]> {
  const ids = [...new Set(receipts.map((r) => r.subscription_id))];
  const { rows } = await client.query<StatsRow>(
    `select subscription_id, provider_id, level_id, last_received_at, last_lead_id, to_char(day, 'YYYY-MM-DD') as day, day_count, month, month_count, xmin::text as seen
       from fairness.subscription_stats where subscription_id = any($1::text[])${lock ? ' for update' : ''}`,
    [ids],
  );
  return rows;
}

/** The served rule (receivedLead) applied to the stored rows, receipt by receipt. */
function countReceipts(rows: readonly StatsRow[], receipts: readonly Receipt[]): MovedStats[] {
  const stats = new Map<string, MovedStats>();
  for (const r of rows) {
    const stored = { lastReceivedAt: r.last_received_at, lastLeadId: r.last_lead_id, day: r.day, dayCount: r.day_count, month: r.month, monthCount: r.month_count };
    stats.set(r.subscription_id, { subscription_id: r.subscription_id, provider_id: r.provider_id, level_id: r.level_id, stats: stored, seen: r.seen });
  }
  for (const r of receipts) {
    const entry = stats.get(r.subscription_id) ?? { subscription_id: r.subscription_id, provider_id: r.provider_id, level_id: r.level_id, stats: { ...NEVER_SERVED, lastLeadId: null }, seen: null };
    stats.set(r.subscription_id, { ...entry, stats: receivedLead(entry.stats, { at: new Date(r.assigned_at), leadId: r.lead_id }) });
  }
  return [...stats.values()];
}

/** The stats columns of `moved`, bound by `param`, as unnest's arguments (subscription_id first). */
const statsColumns = (moved: readonly MovedStats[], param: BindParameter) =>
  [
    `${param(moved.map((m) => m.subscription_id))}::text[]`,
    `${param(moved.map((m) => m.stats.lastReceivedAt))}::timestamptz[]`,
    `${param(moved.map((m) => m.stats.lastLeadId))}::text[]`,
    `${param(moved.map((m) => m.stats.day))}::date[]`,
    `${param(moved.map((m) => m.stats.dayCount))}::integer[]`,
    `${param(moved.map((m) => m.stats.month))}::text[]`,
    `${param(moved.map((m) => m.stats.monthCount))}::integer[]`,
  ].join(', ');

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
  const moved = countReceipts(await storedStats(client, receipts, true), receipts);
  // A new row takes the provider and level of its first receipt (as before the rule moved here); a stored row keeps its own.
  const { param, values } = boundParameters();
  await client.query(
    `insert into fairness.subscription_stats as s
       (subscription_id, last_received_at, last_lead_id, day, day_count, month, month_count, provider_id, level_id)
     select * from unnest(${statsColumns(moved, param)}, ${param(moved.map((m) => m.provider_id))}::text[], ${param(moved.map((m) => m.level_id))}::text[])
     on conflict (subscription_id) do update set
       last_received_at = excluded.last_received_at, last_lead_id = excluded.last_lead_id,
       day = excluded.day, day_count = excluded.day_count, month = excluded.month, month_count = excluded.month_count`,
    values,
  );
}

/**
 * Stats rows read earlier without a lock, by subscription id (null: no row then), e.g. with
 * the served view (subscriptionsOfLevels): prepareReceipts counts on them instead of reading
 * them again. A row written since is found out by its version (xmin), never overwritten.
 */
export type StatsRead = Map<string, StatsRow | null>;

/**
 * recordReceipts in two parts, for a write that has no transaction of its own around the
 * read (lead-stream.ts, flushWriters): the stats are read without a lock (those not in
 * `known`) and computed as recordReceipts computes them; `ctes` writes them only over the
 * very row versions read (xmin) or where no row was, and `written` counts the rows it wrote.
 * Fewer than `expected`: someone wrote a row in between, and the caller undoes the statement
 * (and records the receipts with recordReceipts instead).
 */
export async function prepareReceipts(
  client: Pick<pg.ClientBase, 'query'>,
  receipts: readonly Receipt[],
  known: StatsRead = new Map(),
): Promise<{ expected: number; ctes: (param: BindParameter) => string; written: string }> {
  if (receipts.length === 0) return { expected: 0, ctes: () => '', written: '0' };
  const unknown = receipts.filter((r) => !known.has(r.subscription_id));
  const read = unknown.length > 0 ? await storedStats(client, unknown, false) : [];
  const knownRows = [...new Set(receipts.map((r) => r.subscription_id))].flatMap((id) => known.get(id) ?? []);
  const moved = countReceipts([...knownRows, ...read], receipts);
  const stored = moved.filter((m) => m.seen !== null);
  const fresh = moved.filter((m) => m.seen === null);
  return {
    expected: moved.length,
    ctes: (param) =>
      [
        stored.length > 0 &&
          `stats_updated as (
          update fairness.subscription_stats s set
            last_received_at = x.last_received_at, last_lead_id = x.last_lead_id, day = x.day, day_count = x.day_count, month = x.month, month_count = x.month_count
          from unnest(${statsColumns(stored, param)}, ${param(stored.map((m) => m.seen))}::text[])
            as x(subscription_id, last_received_at, last_lead_id, day, day_count, month, month_count, seen)
          where s.subscription_id = x.subscription_id and s.xmin::text = x.seen
          returning 1)`,
        fresh.length > 0 &&
          `stats_inserted as (
          insert into fairness.subscription_stats (subscription_id, last_received_at, last_lead_id, day, day_count, month, month_count, provider_id, level_id)
          select * from unnest(${statsColumns(fresh, param)}, ${param(fresh.map((m) => m.provider_id))}::text[], ${param(fresh.map((m) => m.level_id))}::text[])
          on conflict (subscription_id) do nothing
          returning 1)`,
      ]
        .filter((x): x is string => typeof x === 'string')
        .join(',\n'),
    written: [stored.length > 0 && '(select count(*) from stats_updated)', fresh.length > 0 && '(select count(*) from stats_inserted)'].filter(Boolean).join(' + ') || '0',
  };
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
