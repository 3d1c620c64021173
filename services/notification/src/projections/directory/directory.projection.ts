/**
 * `notification.providers|niches|levels|subscriptions`: the names and addresses an email
 * needs, from billing's provider events, rotation's niche events and subscription events.
 * Each row keeps the stream version applied last; an older or replayed event is a no-op.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { DISTRIBUTION_EVENTS, isDistributionEventType } from '@fairlead/contracts';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';

const HANDLED = new Set(['ProviderRegistered', 'ProviderUpdated', 'NicheCreated', 'NicheUpdated', 'CompetitionLevelAdded', 'CompetitionLevelUpdated', 'SubscriptionCreated']);

export function directoryProjection(logger: Logger): ProjectionDefinition {
  return {
    name: 'notification.directory',
    categories: ['provider', 'niche', 'subscription'],
    // StartLevelClaimed (one per lead) is in the niche streams too: skipped without a transaction.
    eventTypes: ['ProviderRegistered', 'ProviderUpdated', 'NicheCreated', 'NicheUpdated', 'CompetitionLevelAdded', 'CompetitionLevelUpdated', 'SubscriptionCreated'],
    apply: async (event: StoredEvent, client: pg.PoolClient) => {
      if (!HANDLED.has(event.type) || !isDistributionEventType(event.type)) return;
      const parsed = DISTRIBUTION_EVENTS[event.type].safeParse(event.data);
      if (!parsed.success) {
        // One bad event must not stop every later email; it is logged for an operator.
        logger.error({ eventId: event.id, stream: event.stream, type: event.type, issues: parsed.error.issues }, 'malformed event skipped by the directory projection');
        return;
      }
      await applyEvent({ type: event.type, data: parsed.data } as DirectoryEvent, event.streamVersion, client);
    },
  };
}

type DirectoryEvent =
  | { type: 'ProviderRegistered'; data: { provider_id: string; name: string; email: string } }
  | { type: 'ProviderUpdated'; data: { provider_id: string; name?: string | undefined; email?: string | undefined } }
  | { type: 'NicheCreated'; data: { niche_id: string; name: string } }
  | { type: 'NicheUpdated'; data: { niche_id: string; name?: string | undefined } }
  | { type: 'CompetitionLevelAdded'; data: { niche_id: string; level_id: string; name: string } }
  | { type: 'CompetitionLevelUpdated'; data: { level_id: string; name?: string | undefined } }
  | { type: 'SubscriptionCreated'; data: { subscription_id: string; provider_id: string; niche_id: string; level_id: string } };

async function applyEvent(event: DirectoryEvent, version: number, client: pg.PoolClient): Promise<void> {
  switch (event.type) {
    case 'ProviderRegistered': {
      const d = event.data;
      await client.query(
        `insert into notification.providers (provider_id, name, email, version) values ($1, $2, $3, $4) on conflict (provider_id) do nothing`,
        [d.provider_id, d.name, d.email, version],
      );
      return;
    }
    case 'ProviderUpdated': {
      const d = event.data;
      await client.query(
        `update notification.providers set name = coalesce($2, name), email = coalesce($3, email), version = $4 where provider_id = $1 and version < $4`,
        [d.provider_id, d.name ?? null, d.email ?? null, version],
      );
      return;
    }
    case 'NicheCreated': {
      const d = event.data;
      await client.query(`insert into notification.niches (niche_id, name, version) values ($1, $2, $3) on conflict (niche_id) do nothing`, [d.niche_id, d.name, version]);
      return;
    }
    case 'NicheUpdated': {
      const d = event.data;
      await client.query(`update notification.niches set name = coalesce($2, name), version = $3 where niche_id = $1 and version < $3`, [d.niche_id, d.name ?? null, version]);
      return;
    }
    case 'CompetitionLevelAdded': {
      const d = event.data;
      await client.query(
        `insert into notification.levels (level_id, niche_id, name, version) values ($1, $2, $3, $4) on conflict (level_id) do nothing`,
        [d.level_id, d.niche_id, d.name, version],
      );
      return;
    }
    case 'CompetitionLevelUpdated': {
      const d = event.data;
      await client.query(`update notification.levels set name = coalesce($2, name), version = $3 where level_id = $1 and version < $3`, [d.level_id, d.name ?? null, version]);
      return;
    }
    case 'SubscriptionCreated': {
      const d = event.data;
      await client.query(
        `insert into notification.subscriptions (subscription_id, provider_id, niche_id, level_id, version) values ($1, $2, $3, $4, $5)
         on conflict (subscription_id) do nothing`,
        [d.subscription_id, d.provider_id, d.niche_id, d.level_id, version],
      );
      return;
    }
  }
}
