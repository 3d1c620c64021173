/**
 * `operator.niches` and `operator.levels`: each niche's name, auto-distribution flag,
 * rotation pointer and competition levels, from the niche streams. The niche row keeps
 * the stream version (the ETag operators send back in If-Match); each level keeps the
 * version of its last change, so a replay changes nothing.
 */
import type pg from 'pg';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';
import { eventData } from '../event-data';
import { moneyToBigint } from '../upgrade';

const SETUP = `
  create table if not exists operator.niches (
    niche_id text primary key,
    name text not null,
    auto_distribute boolean not null,
    next_start_order_position integer not null default 1,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    version integer not null
  );
  create table if not exists operator.levels (
    level_id text primary key,
    niche_id text not null,
    name text not null,
    order_position integer not null,
    max_recipients integer not null,
    price_per_lead_cents bigint not null,
    active boolean not null,
    version integer not null
  );
  create index if not exists levels_by_niche on operator.levels (niche_id, order_position);
  ${moneyToBigint('levels', ['price_per_lead_cents'])}
`;

/** Moves the niche's version (and updated_at) for any event of its stream, once. */
async function touchNiche(client: pg.PoolClient, nicheId: string, version: number, at: Date, set = '', values: unknown[] = []): Promise<void> {
  await client.query(
    `update operator.niches set ${set}${set ? ', ' : ''}version = $2, updated_at = $3 where niche_id = $1 and version < $2`,
    [nicheId, version, at, ...values],
  );
}

export const catalogueProjection: ProjectionDefinition = {
  name: 'operator.catalogue',
  categories: ['niche'],
  setup: async (client) => void (await client.query(SETUP)),
  // A page of rotation claims only (the niches' busy event: one per lead) in one statement:
  // claims only move the niche row, each under the version guard, so of a niche's claims the
  // newest (the first of equals, as in log order) is the one that stands, as event by event.
  // A page with any other niche event: event by event.
  applyBatch: async (events: readonly StoredEvent[], client: pg.PoolClient) => {
    if (!events.every((e) => e.type === 'StartLevelClaimed')) {
      for (const event of events) await catalogueProjection.apply(event, client);
      return;
    }
    const claims = events.map((e, ord) => {
      const d = eventData('StartLevelClaimed', e);
      return { niche_id: d.niche_id, version: e.streamVersion, updated_at: e.createdAt, next_start_order_position: d.next_start_order_position, ord };
    });
    await client.query(
      `update operator.niches n set next_start_order_position = c.next_start_order_position, version = c.version, updated_at = c.updated_at
       from (select distinct on (niche_id) * from jsonb_to_recordset($1::jsonb)
               as r(niche_id text, version integer, updated_at timestamptz, next_start_order_position integer, ord integer)
             order by niche_id, version desc, ord) c
       where n.niche_id = c.niche_id and n.version < c.version`,
      [JSON.stringify(claims)],
    );
  },
  apply: async (event: StoredEvent, client: pg.PoolClient) => {
    const v = event.streamVersion;
    const at = event.createdAt;
    switch (event.type) {
      case 'NicheCreated': {
        const d = eventData('NicheCreated', event);
        await client.query(
          `insert into operator.niches (niche_id, name, auto_distribute, created_at, updated_at, version) values ($1, $2, $3, $4, $4, $5)
           on conflict (niche_id) do nothing`,
          [d.niche_id, d.name, d.auto_distribute, at, v],
        );
        return;
      }
      case 'NicheUpdated': {
        const d = eventData('NicheUpdated', event);
        await touchNiche(client, d.niche_id, v, at, `name = coalesce($4, name), auto_distribute = coalesce($5, auto_distribute)`, [d.name ?? null, d.auto_distribute ?? null]);
        return;
      }
      case 'CompetitionLevelAdded': {
        const d = eventData('CompetitionLevelAdded', event);
        await client.query(
          `insert into operator.levels (level_id, niche_id, name, order_position, max_recipients, price_per_lead_cents, active, version)
           values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (level_id) do nothing`,
          [d.level_id, d.niche_id, d.name, d.order_position, d.max_recipients, d.price_per_lead_cents, d.active, v],
        );
        await touchNiche(client, d.niche_id, v, at);
        return;
      }
      case 'CompetitionLevelUpdated': {
        const d = eventData('CompetitionLevelUpdated', event);
        await client.query(
          `update operator.levels set name = coalesce($3, name), max_recipients = coalesce($4, max_recipients),
             price_per_lead_cents = coalesce($5, price_per_lead_cents), active = coalesce($6, active), version = $2
           where level_id = $1 and version < $2`,
          [d.level_id, v, d.name ?? null, d.max_recipients ?? null, d.price_per_lead_cents ?? null, d.active ?? null],
        );
        await touchNiche(client, d.niche_id, v, at);
        return;
      }
      case 'StartLevelClaimed': {
        const d = eventData('StartLevelClaimed', event);
        await touchNiche(client, d.niche_id, v, at, `next_start_order_position = $4`, [d.next_start_order_position]);
        return;
      }
      default:
        return;
    }
  },
};
