/**
 * `fairness.levels`: the competition levels of every niche, from rotation's niche events.
 * Subscriptions are checked against it (a subscription names a level of its niche).
 */
import type pg from 'pg';
import { parseDistributionEvent } from '@fairlead/contracts';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';

export const levelsProjection: ProjectionDefinition = {
  name: 'fairness.levels',
  categories: ['niche'],
  // StartLevelClaimed (one per lead) is in the niche streams too: skipped without a transaction.
  eventTypes: ['CompetitionLevelAdded', 'CompetitionLevelUpdated'],
  apply: async (event: StoredEvent, client: pg.PoolClient) => {
    const position = event.globalPosition.toString();
    switch (event.type) {
      case 'CompetitionLevelAdded': {
        const d = parseDistributionEvent('CompetitionLevelAdded', event.data);
        await client.query(
          `insert into fairness.levels (level_id, niche_id, name, order_position, max_recipients, price_per_lead_cents, active, position)
           values ($1, $2, $3, $4, $5, $6, $7, $8)
           on conflict (level_id) do nothing`,
          [d.level_id, d.niche_id, d.name, d.order_position, d.max_recipients, d.price_per_lead_cents, d.active, position],
        );
        return;
      }
      case 'CompetitionLevelUpdated': {
        const d = parseDistributionEvent('CompetitionLevelUpdated', event.data);
        await client.query(
          `update fairness.levels set
             name = coalesce($2, name),
             max_recipients = coalesce($3, max_recipients),
             price_per_lead_cents = coalesce($4, price_per_lead_cents),
             active = coalesce($5, active),
             position = $6
           where level_id = $1 and position < $6`,
          [d.level_id, d.name ?? null, d.max_recipients ?? null, d.price_per_lead_cents ?? null, d.active ?? null, position],
        );
        return;
      }
      default:
        return;
    }
  },
};

export interface LevelRow {
  level_id: string;
  niche_id: string;
  name: string;
  order_position: number;
  max_recipients: number;
  price_per_lead_cents: number;
  active: boolean;
}

export async function findLevel(db: Pick<pg.Pool, 'query'>, levelId: string): Promise<LevelRow | undefined> {
  // The price is a bigint column (a decimal string from pg); bounded by MONEY_LIMITS, so a safe number.
  const { rows } = await db.query<Omit<LevelRow, 'price_per_lead_cents'> & { price_per_lead_cents: string }>(
    `select level_id, niche_id, name, order_position, max_recipients, price_per_lead_cents, active from fairness.levels where level_id = $1`,
    [levelId],
  );
  const row = rows[0];
  return row && { ...row, price_per_lead_cents: Number(row.price_per_lead_cents) };
}
