/** Reads of the directory read model. */
import type pg from 'pg';
import type { ProviderFacts } from '../../domain/emails';

type Db = Pick<pg.Pool, 'query'>;

export async function findProvider(db: Db, providerId: string): Promise<ProviderFacts | undefined> {
  const { rows } = await db.query<ProviderFacts>(`select name, email from notification.providers where provider_id = $1`, [providerId]);
  return rows[0];
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
