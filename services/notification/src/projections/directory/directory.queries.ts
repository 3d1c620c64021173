/** Reads of the directory read model. */
import type pg from 'pg';
import { quoteIdentifier } from '@fairlead/event-store';
import type { ProviderFacts } from '../../domain/emails';

type Db = Pick<pg.Pool, 'query'>;

export async function findProvider(db: Db, providerId: string): Promise<ProviderFacts | undefined> {
  const { rows } = await db.query<ProviderFacts>(`select name, email from notification.providers where provider_id = $1`, [providerId]);
  return rows[0];
}

/** The provider and the niche name a lead_assigned email needs, in one round trip (either may be missing). */
export async function findProviderAndNiche(db: Db, providerId: string, nicheId: string): Promise<{ provider: ProviderFacts | undefined; nicheName: string | undefined }> {
  const { rows } = await db.query<{ name: string | null; email: string | null; niche_name: string | null }>(
    `select p.name, p.email, n.name as niche_name
       from (select 1) one
       left join notification.providers p on p.provider_id = $1
       left join notification.niches n on n.niche_id = $2`,
    [providerId, nicheId],
  );
  const row = rows[0]!;
  return { provider: row.email !== null && row.name !== null ? { name: row.name, email: row.email } : undefined, nicheName: row.niche_name ?? undefined };
}

export interface BatchFacts {
  /** The outbox emails of these ids already recorded, with their source event. */
  recorded: Map<string, { source_event_id: string }>;
  /** Providers by id (those projected). */
  providers: Map<string, ProviderFacts>;
  /** Niche names by id (those projected). */
  niches: Map<string, string>;
  /** The data of the LeadApproved of the lead streams asked for (those that have one), by stream name. */
  leadsApproved: Map<string, unknown>;
}

/** Where the event store's tables are, and which lead streams' LeadApproved to read with the facts. */
export interface LeadApprovedRead {
  /** The event store's schema (its `events` table). */
  eventSchema: string;
  leadStreams: readonly string[];
}

/**
 * What a batch of lead_assigned emails reads before composing, in one round trip (it was three, then four with
 * the lead's): which of its emails are recorded already, the providers and niche names the others need, and,
 * with `leads`, the LeadApproved of its leads from the event store's table (the first of each stream, as
 * readStream and a find gave it; the table's primary key is (stream_name, stream_version)).
 * A named statement: parsed and planned once per connection.
 */
export async function findBatchFacts(
  db: Db,
  outboxIds: readonly string[],
  providerIds: readonly string[],
  nicheIds: readonly string[],
  leads?: LeadApprovedRead,
): Promise<BatchFacts> {
  const base = `select 'o' as t, id::text as k, source_event_id as a, null::text as b from notification.outbox where id = any($1::uuid[])
           union all select 'p', provider_id, name, email from notification.providers where provider_id = any($2::text[])
           union all select 'n', niche_id, name, null from notification.niches where niche_id = any($3::text[])`;
  const ids = [[...new Set(outboxIds)], [...new Set(providerIds)], [...new Set(nicheIds)]];
  const { rows } = await db.query<{ t: 'o' | 'p' | 'n' | 'l'; k: string; a: string; b: string | null }>(
    leads
      ? {
          name: `notification-batch-facts-leads:${leads.eventSchema}`,
          text: `${base}
           union all (select distinct on (e.stream_name) 'l', e.stream_name, e.data::text, null from ${quoteIdentifier(leads.eventSchema, 'schema')}.events e
                       where e.stream_name = any($4::text[]) and e.type = 'LeadApproved' order by e.stream_name, e.stream_version)`,
          values: [...ids, [...new Set(leads.leadStreams)]],
        }
      : { name: 'notification-batch-facts', text: base, values: ids },
  );
  const facts: BatchFacts = { recorded: new Map(), providers: new Map(), niches: new Map(), leadsApproved: new Map() };
  for (const r of rows) {
    if (r.t === 'o') facts.recorded.set(r.k, { source_event_id: r.a });
    else if (r.t === 'p') facts.providers.set(r.k, { name: r.a, email: r.b! });
    else if (r.t === 'n') facts.niches.set(r.k, r.a);
    else facts.leadsApproved.set(r.k, JSON.parse(r.a) as unknown);
  }
  return facts;
}

/** Providers by id (those projected). */
export async function findProviders(db: Db, providerIds: readonly string[]): Promise<Map<string, ProviderFacts>> {
  if (providerIds.length === 0) return new Map();
  const { rows } = await db.query<ProviderFacts & { provider_id: string }>(`select provider_id, name, email from notification.providers where provider_id = any($1::text[])`, [[...providerIds]]);
  return new Map(rows.map((r) => [r.provider_id, { name: r.name, email: r.email }]));
}

/** Niche names by id (those projected). */
export async function findNicheNames(db: Db, nicheIds: readonly string[]): Promise<Map<string, string>> {
  if (nicheIds.length === 0) return new Map();
  const { rows } = await db.query<{ niche_id: string; name: string }>(`select niche_id, name from notification.niches where niche_id = any($1::text[])`, [[...nicheIds]]);
  return new Map(rows.map((r) => [r.niche_id, r.name]));
}

export async function findNicheName(db: Db, nicheId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ name: string }>(`select name from notification.niches where niche_id = $1`, [nicheId]);
  return rows[0]?.name;
}

export interface SubscriptionFacts {
  provider_id: string;
  niche_id: string;
  niche_name: string | null;
  level_id: string;
  level_name: string | null;
}

export async function findSubscription(db: Db, subscriptionId: string): Promise<SubscriptionFacts | undefined> {
  const { rows } = await db.query<SubscriptionFacts>(
    `select s.provider_id, s.niche_id, n.name as niche_name, s.level_id, l.name as level_name
       from notification.subscriptions s
       left join notification.niches n on n.niche_id = s.niche_id
       left join notification.levels l on l.level_id = s.level_id
      where s.subscription_id = $1`,
    [subscriptionId],
  );
  return rows[0];
}

/** A provider's subscriptions with their niche and level names (to name them in one email). */
export async function subscriptionsOfProvider(db: Db, providerId: string): Promise<(SubscriptionFacts & { subscription_id: string })[]> {
  const { rows } = await db.query<SubscriptionFacts & { subscription_id: string }>(
    `select s.subscription_id, s.provider_id, s.niche_id, n.name as niche_name, s.level_id, l.name as level_name
       from notification.subscriptions s
       left join notification.niches n on n.niche_id = s.niche_id
       left join notification.levels l on l.level_id = s.level_id
      where s.provider_id = $1
      order by n.name, l.name, s.subscription_id`,
    [providerId],
  );
  return rows;
}
