/**
 * `billing.subscriptions`: each subscription's provider, level, status and stream version,
 * from the subscription streams. Rows carry the version applied, so a replayed event (or
 * one billing already wrote with its own status change) changes nothing.
 */
import type pg from 'pg';
import { parseDistributionEvent } from '@fairlead/contracts';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';

export const subscriptionsProjection: ProjectionDefinition = {
  name: 'billing.subscriptions',
  categories: ['subscription'],
  eventTypes: ['SubscriptionCreated', 'SubscriptionStatusChanged'],
  apply: async (event: StoredEvent, client: pg.PoolClient) => {
    const version = event.streamVersion;
    switch (event.type) {
      case 'SubscriptionCreated': {
        const d = parseDistributionEvent('SubscriptionCreated', event.data);
        await client.query(
          `insert into billing.subscriptions (subscription_id, provider_id, level_id, status, version) values ($1, $2, $3, $4, $5)
           on conflict (subscription_id) do nothing`,
          [d.subscription_id, d.provider_id, d.level_id, d.status, version],
        );
        return;
      }
      case 'SubscriptionStatusChanged': {
        const d = parseDistributionEvent('SubscriptionStatusChanged', event.data);
        await recordStatus(client, d.subscription_id, d.to, version);
        return;
      }
      default:
        // SubscriptionChanged (area, caps) does not matter to billing; the version still moves.
        await client.query('update billing.subscriptions set version = $2 where subscription_id = $1 and version < $2', [streamId(event.stream), version]);
    }
  },
};

const streamId = (stream: string) => stream.slice(stream.indexOf('-') + 1);

/** Records a status at a stream version unless a later one is already there. */
export async function recordStatus(client: Pick<pg.ClientBase, 'query'>, subscriptionId: string, status: string, version: number): Promise<void> {
  await client.query('update billing.subscriptions set status = $2, version = $3 where subscription_id = $1 and version < $3', [subscriptionId, status, version]);
}

export interface ProviderSubscriptionRow {
  subscription_id: string;
  status: string;
  version: number;
  /** A bigint column: a decimal string, parsed where the rule reads it. */
  price_cents: string;
}

/** The provider's ($1) subscriptions whose level price is known; other statements may add it to their own round trip. */
export const PRICED_SUBSCRIPTIONS_SQL = `select s.subscription_id, s.status, s.version, l.price_per_lead_cents as price_cents
       from billing.subscriptions s join billing.levels l on l.level_id = s.level_id
      where s.provider_id = $1
      order by s.subscription_id`;

/** PRICED_SUBSCRIPTIONS_SQL for the providers in $1 (text[]), with provider_id, grouped by provider. */
export const PRICED_SUBSCRIPTIONS_OF_MANY_SQL = `select s.provider_id, s.subscription_id, s.status, s.version, l.price_per_lead_cents as price_cents
       from billing.subscriptions s join billing.levels l on l.level_id = s.level_id
      where s.provider_id = any($1::text[])
      order by s.provider_id, s.subscription_id`;

/** The provider's subscriptions whose level price is known, for the low-balance rule. */
export async function pricedSubscriptionsOf(client: Pick<pg.ClientBase, 'query'>, providerId: string): Promise<ProviderSubscriptionRow[]> {
  const { rows } = await client.query<ProviderSubscriptionRow>(PRICED_SUBSCRIPTIONS_SQL, [providerId]);
  return rows;
}
