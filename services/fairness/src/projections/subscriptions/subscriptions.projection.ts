/**
 * `fairness.subscriptions`: every subscription's current area, caps and status, from the
 * subscription streams (operators' changes through fairness, low-balance moves by billing).
 * Rows carry the stream version applied, so a replayed event changes nothing.
 */
import type pg from 'pg';
import { parseDistributionEvent } from '@fairlead/contracts';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';
import type { SubscriptionView } from '../../domain/eligibility';
import { NEVER_SERVED, servedAt } from '../../domain/eligibility';
import type { Subscription } from '../../domain/subscription';
import type { StatsRead } from '../subscription-stats/subscription-stats';

export const subscriptionsProjection: ProjectionDefinition = {
  name: 'fairness.subscriptions',
  categories: ['subscription'],
  eventTypes: ['SubscriptionCreated', 'SubscriptionChanged', 'SubscriptionStatusChanged'],
  apply: async (event: StoredEvent, client: pg.PoolClient) => {
    const version = event.streamVersion;
    switch (event.type) {
      case 'SubscriptionCreated': {
        const d = parseDistributionEvent('SubscriptionCreated', event.data);
        await client.query(
          `insert into fairness.subscriptions (subscription_id, provider_id, niche_id, level_id, postal_codes, states, daily_cap, monthly_cap, status, version)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           on conflict (subscription_id) do nothing`,
          [d.subscription_id, d.provider_id, d.niche_id, d.level_id, d.service_area.postal_codes, d.service_area.states, d.daily_cap, d.monthly_cap, d.status, version],
        );
        return;
      }
      case 'SubscriptionChanged': {
        const d = parseDistributionEvent('SubscriptionChanged', event.data);
        // A cap of null removes it, so "unchanged" travels as a separate flag, not as null.
        await client.query(
          `update fairness.subscriptions set
             postal_codes = coalesce($2, postal_codes),
             states = coalesce($3, states),
             daily_cap = case when $4 then $5::integer else daily_cap end,
             monthly_cap = case when $6 then $7::integer else monthly_cap end,
             version = $8
           where subscription_id = $1 and version < $8`,
          [
            d.subscription_id,
            d.service_area?.postal_codes ?? null,
            d.service_area?.states ?? null,
            d.daily_cap !== undefined,
            d.daily_cap ?? null,
            d.monthly_cap !== undefined,
            d.monthly_cap ?? null,
            version,
          ],
        );
        return;
      }
      case 'SubscriptionStatusChanged': {
        const d = parseDistributionEvent('SubscriptionStatusChanged', event.data);
        await client.query(`update fairness.subscriptions set status = $2, version = $3 where subscription_id = $1 and version < $3`, [d.subscription_id, d.to, version]);
        return;
      }
      default:
        return;
    }
  },
};

interface SubscriptionRow {
  subscription_id: string;
  provider_id: string;
  niche_id: string;
  level_id: string;
  postal_codes: string[];
  states: string[];
  daily_cap: number | null;
  monthly_cap: number | null;
  status: Subscription['status'];
  version: number;
}

/** The projected subscription, or undefined (the projection may lag its stream slightly). */
export async function findSubscription(db: Pick<pg.Pool, 'query'>, subscriptionId: string): Promise<Subscription | undefined> {
  const { rows } = await db.query<SubscriptionRow>(`select * from fairness.subscriptions where subscription_id = $1`, [subscriptionId]);
  const row = rows[0];
  if (!row) return undefined;
  return {
    subscription_id: row.subscription_id,
    provider_id: row.provider_id,
    niche_id: row.niche_id,
    level_id: row.level_id,
    service_area: { postal_codes: row.postal_codes, states: row.states },
    daily_cap: row.daily_cap,
    monthly_cap: row.monthly_cap,
    status: row.status,
    version: row.version,
  };
}

interface CandidateRow {
  subscription_id: string;
  provider_id: string;
  level_id: string;
  status: Subscription['status'];
  postal_codes: string[];
  states: string[];
  daily_cap: number | null;
  monthly_cap: number | null;
  last_received_at: Date | null;
  day: string | null;
  day_count: number | null;
  month: string | null;
  month_count: number | null;
  /** Served times of the subscription's picks waiting for billing (fairness.pending_picks). */
  pending: Date[] | null;
  /** The stats row itself (null: none), for StatsRead. */
  last_lead_id: string | null;
  stats_provider_id: string | null;
  stats_level_id: string | null;
  seen: string | null;
}

/**
 * The subscriptions of these levels (cancelled ones left out) with their receipt stats,
 * grouped by level, for the eligibility rules. A pick waiting for billing counts as served
 * at its served time (as it will once charged): the view holds every pick and assignment
 * already in the log. `statsRead`, when given, gets the stats rows as read (by
 * subscription, null for none), for the pass's write of assignments (prepareReceipts).
 */
export function subscriptionsOfLevels(db: Pick<pg.ClientBase, 'query'>, levelIds: readonly string[], statsRead?: StatsRead): Promise<Map<string, SubscriptionView[]>> {
  return subscriptionViews(db, 'fairness.subscriptions_of_levels', '$1::text[]', levelIds, statsRead);
}

/**
 * subscriptionsOfLevels for the levels of a niche as this service's read model knows them
 * (fairness.levels); a level it does not know yet is missing from the map, as is a level
 * without subscriptions.
 */
export function subscriptionsOfNiche(db: Pick<pg.ClientBase, 'query'>, nicheId: string, statsRead?: StatsRead): Promise<Map<string, SubscriptionView[]>> {
  return subscriptionViews(db, 'fairness.subscriptions_of_niche', `(select coalesce(array_agg(l.level_id), '{}') from fairness.levels l where l.niche_id = $1)::text[]`, nicheId, statsRead);
}

/**
 * The views of the subscriptions whose level is in `levelsSql` (a text[] expression of the one
 * parameter `value`). A named (prepared) statement: a pass at a low rate reads the niche once per
 * lead, and planning the join took a quarter of its time (0.43 of ~1.8 ms, bench:distribution).
 */
async function subscriptionViews(db: Pick<pg.ClientBase, 'query'>, name: string, levelsSql: string, value: unknown, statsRead?: StatsRead): Promise<Map<string, SubscriptionView[]>> {
  const { rows } = await db.query<CandidateRow>({
    name,
    text: `select s.subscription_id, s.provider_id, s.level_id, s.status, s.postal_codes, s.states, s.daily_cap, s.monthly_cap,
            st.last_received_at, to_char(st.day, 'YYYY-MM-DD') as day, st.day_count, st.month, st.month_count, p.pending,
            st.last_lead_id, st.provider_id as stats_provider_id, st.level_id as stats_level_id, st.xmin::text as seen
       from fairness.subscriptions s
       left join fairness.subscription_stats st on st.subscription_id = s.subscription_id
       left join (
         -- One pass over the few picks waiting for billing, not a probe per subscription: the
         -- table churns (rows in and out with every lead), so per-row index probes walked
         -- dead entries — this statement was a tenth of PostgreSQL's time (bench:distribution).
         select pp.subscription_id, array_agg(pp.served_at order by pp.served_at) as pending
           from fairness.pending_picks pp
          where pp.level_id = any(${levelsSql})
          group by pp.subscription_id
       ) p on p.subscription_id = s.subscription_id
      where s.level_id = any(${levelsSql}) and s.status <> 'cancelled'`,
    values: [value],
  });
  const byLevel = new Map<string, SubscriptionView[]>();
  for (const r of rows) {
    statsRead?.set(
      r.subscription_id,
      r.seen === null
        ? null
        : {
            subscription_id: r.subscription_id,
            provider_id: r.stats_provider_id!,
            level_id: r.stats_level_id!,
            last_received_at: r.last_received_at!,
            last_lead_id: r.last_lead_id!,
            day: r.day!,
            day_count: r.day_count!,
            month: r.month!,
            month_count: r.month_count!,
            seen: r.seen,
          },
    );
    let stats =
      r.last_received_at === null
        ? NEVER_SERVED
        : { lastReceivedAt: r.last_received_at, day: r.day, dayCount: r.day_count ?? 0, month: r.month, monthCount: r.month_count ?? 0 };
    for (const at of r.pending ?? []) stats = servedAt(stats, at);
    const view: SubscriptionView = {
      subscriptionId: r.subscription_id,
      providerId: r.provider_id,
      levelId: r.level_id,
      status: r.status,
      serviceArea: { postal_codes: r.postal_codes, states: r.states },
      dailyCap: r.daily_cap,
      monthlyCap: r.monthly_cap,
      stats,
    };
    const list = byLevel.get(r.level_id);
    if (list) list.push(view);
    else byLevel.set(r.level_id, [view]);
  }
  return byLevel;
}
