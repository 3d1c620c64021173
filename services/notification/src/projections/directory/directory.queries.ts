/** Reads of the directory read model. */
import type pg from 'pg';
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
