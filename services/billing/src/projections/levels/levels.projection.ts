/**
 * `billing.levels`: every competition level's price and active flag, from rotation's
 * niche events (the low-balance rule compares a balance with these prices).
 */
import type pg from 'pg';
import { parseDistributionEvent } from '@fairlead/contracts';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';

export const levelsProjection: ProjectionDefinition = {
  name: 'billing.levels',
  categories: ['niche'],
  // StartLevelClaimed (one per lead) is in the niche streams too: skipped without a transaction.
  eventTypes: ['CompetitionLevelAdded', 'CompetitionLevelUpdated'],
  apply: async (event: StoredEvent, client: pg.PoolClient) => {
    const version = event.streamVersion;
    switch (event.type) {
      case 'CompetitionLevelAdded': {
        const d = parseDistributionEvent('CompetitionLevelAdded', event.data);
        await client.query(
          `insert into billing.levels (level_id, niche_id, price_per_lead_cents, active, version) values ($1, $2, $3, $4, $5)
           on conflict (level_id) do nothing`,
          [d.level_id, d.niche_id, d.price_per_lead_cents, d.active, version],
        );
        return;
      }
      case 'CompetitionLevelUpdated': {
        const d = parseDistributionEvent('CompetitionLevelUpdated', event.data);
        await client.query(
          `update billing.levels set
             price_per_lead_cents = coalesce($2, price_per_lead_cents),
             active = coalesce($3, active),
             version = $4
           where level_id = $1 and version < $4`,
          [d.level_id, d.price_per_lead_cents ?? null, d.active ?? null, version],
        );
        return;
      }
      default:
        // Claims and niche renames do not change prices.
        return;
    }
  },
};
