/**
 * `operator.providers`: each provider's name and email from its provider stream; the row
 * keeps the stream version (the ETag of a provider), so a replay changes nothing.
 */
import type pg from 'pg';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';
import { eventData } from '../event-data';

export const PROVIDERS_SETUP = `
  create table if not exists operator.providers (
    provider_id text primary key,
    name text not null,
    email text not null,
    registered_at timestamptz not null,
    updated_at timestamptz not null,
    version integer not null
  );
  create index if not exists providers_by_name on operator.providers (name, provider_id);
`;

export const providersProjection: ProjectionDefinition = {
  name: 'operator.providers',
  categories: ['provider'],
  setup: async (client) => void (await client.query(PROVIDERS_SETUP)),
  apply: async (event: StoredEvent, client: pg.PoolClient) => {
    const v = event.streamVersion;
    switch (event.type) {
      case 'ProviderRegistered': {
        const d = eventData('ProviderRegistered', event);
        await client.query(
          `insert into operator.providers (provider_id, name, email, registered_at, updated_at, version) values ($1, $2, $3, $4, $4, $5)
           on conflict (provider_id) do nothing`,
          [d.provider_id, d.name, d.email, event.createdAt, v],
        );
        return;
      }
      case 'ProviderUpdated': {
        const d = eventData('ProviderUpdated', event);
        await client.query(
          `update operator.providers set name = coalesce($3, name), email = coalesce($4, email), updated_at = $5, version = $2
           where provider_id = $1 and version < $2`,
          [d.provider_id, v, d.name ?? null, d.email ?? null, event.createdAt],
        );
        return;
      }
      default:
        return;
    }
  },
};
