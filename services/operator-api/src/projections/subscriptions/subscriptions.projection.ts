/**
 * `operator.subscriptions`: each subscription's provider, level, service area, caps and
 * status, from the subscription streams (operators' changes and billing's low-balance
 * moves). The row keeps the stream version (the ETag), so a replay changes nothing.
 */
import type pg from 'pg';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';
import { eventData } from '../event-data';

const SETUP = `
  create table if not exists operator.subscriptions (
    subscription_id text primary key,
    provider_id text not null,
    niche_id text not null,
    level_id text not null,
    postal_codes text[] not null,
    states text[] not null,
    daily_cap integer,
    monthly_cap integer,
    status text not null,
    status_reason text,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    version integer not null
  );
  create index if not exists subscriptions_by_provider on operator.subscriptions (provider_id, subscription_id);
  create index if not exists subscriptions_by_level on operator.subscriptions (level_id, subscription_id);
  create index if not exists subscriptions_by_niche on operator.subscriptions (niche_id, subscription_id);
`;

export const subscriptionsProjection: ProjectionDefinition = {
  name: 'operator.subscriptions',
  categories: ['subscription'],
  setup: async (client) => void (await client.query(SETUP)),
  apply: async (event: StoredEvent, client: pg.PoolClient) => {
    const v = event.streamVersion;
    switch (event.type) {
      case 'SubscriptionCreated': {
        const d = eventData('SubscriptionCreated', event);
        await client.query(
          `insert into operator.subscriptions (subscription_id, provider_id, niche_id, level_id, postal_codes, states, daily_cap, monthly_cap, status, created_at, updated_at, version)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11) on conflict (subscription_id) do nothing`,
          [d.subscription_id, d.provider_id, d.niche_id, d.level_id, d.service_area.postal_codes, d.service_area.states, d.daily_cap, d.monthly_cap, d.status, event.createdAt, v],
        );
        return;
      }
      case 'SubscriptionChanged': {
        const d = eventData('SubscriptionChanged', event);
        // A cap of null removes it, so "unchanged" travels as its own flag, not as null.
        await client.query(
          `update operator.subscriptions set
             postal_codes = coalesce($3, postal_codes), states = coalesce($4, states),
             daily_cap = case when $5 then $6::integer else daily_cap end,
             monthly_cap = case when $7 then $8::integer else monthly_cap end,
             updated_at = $9, version = $2
           where subscription_id = $1 and version < $2`,
          [
            d.subscription_id,
            v,
            d.service_area?.postal_codes ?? null,
            d.service_area?.states ?? null,
            d.daily_cap !== undefined,
            d.daily_cap ?? null,
            d.monthly_cap !== undefined,
            d.monthly_cap ?? null,
            event.createdAt,
          ],
        );
        return;
      }
      case 'SubscriptionStatusChanged': {
        const d = eventData('SubscriptionStatusChanged', event);
        await client.query(
          `update operator.subscriptions set status = $3, status_reason = $4, updated_at = $5, version = $2 where subscription_id = $1 and version < $2`,
          [d.subscription_id, v, d.to, d.reason, event.createdAt],
        );
        return;
      }
      default:
        return;
    }
  },
};
