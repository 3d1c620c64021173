/**
 * `operator.assignments`: every lead assignment (provider, subscription, level, price,
 * when), and whether the charge was refunded since. Keyed by assignment id (an insert of
 * a replayed LeadAssigned does nothing; a refund only ever sets the same values), and
 * indexed for keyset pagination per lead, per provider and overall.
 */
import type pg from 'pg';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';
import { eventData } from '../event-data';
import { moneyToBigint } from '../upgrade';

export const ASSIGNMENTS_SETUP = `
  create table if not exists operator.assignments (
    assignment_id text primary key,
    lead_id text not null,
    niche_id text not null,
    provider_id text not null,
    subscription_id text not null,
    level_id text not null,
    level_name text not null,
    order_position integer not null,
    price_cents bigint not null,
    status text not null default 'active',
    assigned_at timestamptz not null,
    refunded_at timestamptz
  );
  create index if not exists assignments_by_lead on operator.assignments (lead_id, assigned_at desc, assignment_id desc);
  create index if not exists assignments_by_time on operator.assignments (assigned_at desc, assignment_id desc);
  create index if not exists assignments_by_provider on operator.assignments (provider_id, assigned_at desc, assignment_id desc);
  ${moneyToBigint('assignments', ['price_cents'])}
`;

export const assignmentsProjection: ProjectionDefinition = {
  name: 'operator.assignments',
  categories: ['lead', 'wallet'],
  setup: async (client) => void (await client.query(ASSIGNMENTS_SETUP)),
  apply: async (event: StoredEvent, client: pg.PoolClient) => {
    switch (event.type) {
      case 'LeadAssigned': {
        const d = eventData('LeadAssigned', event);
        await client.query(
          `insert into operator.assignments (assignment_id, lead_id, niche_id, provider_id, subscription_id, level_id, level_name, order_position, price_cents, assigned_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict (assignment_id) do nothing`,
          [d.assignment_id, d.lead_id, d.niche_id, d.provider_id, d.subscription_id, d.level_id, d.level_name, d.order_position, d.price_cents, d.assigned_at],
        );
        return;
      }
      case 'WalletRefunded': {
        const d = eventData('WalletRefunded', event);
        await client.query(
          `update operator.assignments set status = 'refunded', refunded_at = coalesce(refunded_at, $3) where lead_id = $1 and provider_id = $2`,
          [d.lead_id, d.provider_id, event.createdAt],
        );
        return;
      }
      default:
        return;
    }
  },
  // Rebuilds: one multi-row insert for the batch's assignments, then its refunds in order
  // (a refund always follows its assignment in the log, so this equals apply() one by one).
  applyBatch: async (events: readonly StoredEvent[], client: pg.PoolClient) => {
    const rows = events.filter((e) => e.type === 'LeadAssigned').map((e) => eventData('LeadAssigned', e));
    if (rows.length > 0) {
      const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
      await client.query(
        `insert into operator.assignments (assignment_id, lead_id, niche_id, provider_id, subscription_id, level_id, level_name, order_position, price_cents, assigned_at)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::bigint[], $10::timestamptz[])
         on conflict (assignment_id) do nothing`,
        [col('assignment_id'), col('lead_id'), col('niche_id'), col('provider_id'), col('subscription_id'), col('level_id'), col('level_name'), col('order_position'), col('price_cents'), col('assigned_at')],
      );
    }
    for (const e of events) if (e.type === 'WalletRefunded') await assignmentsProjection.apply(e, client);
  },
};
