/**
 * The fairness service's own tables (schema `fairness`), created by versioned migrations
 * at start-up. Add a new version to change them; never edit an applied one.
 */
import type pg from 'pg';
import { runMigrations, type Migration, type RunMigrationsResult } from '@fairlead/event-store';

export const SCHEMA = 'fairness';

const migrations: Migration[] = [
  {
    version: 1,
    name: 'levels, subscriptions, subscription_stats',
    sql: `
      create table fairness.levels (
        level_id text primary key,
        niche_id text not null,
        name text not null,
        order_position integer not null,
        max_recipients integer not null,
        price_per_lead_cents integer not null,
        active boolean not null,
        -- global position of the last event applied, so a replayed event changes nothing
        position bigint not null
      );
      create index levels_niche on fairness.levels (niche_id);

      create table fairness.subscriptions (
        subscription_id text primary key,
        provider_id text not null,
        niche_id text not null,
        level_id text not null,
        postal_codes text[] not null,
        states text[] not null,
        daily_cap integer,
        monthly_cap integer,
        status text not null,
        -- version of the subscription stream applied (stream versions order its events)
        version integer not null
      );
      create index subscriptions_level on fairness.subscriptions (level_id) where status <> 'cancelled';
      create index subscriptions_provider on fairness.subscriptions (provider_id);

      -- Written in the transaction that appends LeadAssigned, so the next lead of the
      -- niche sees the exact least-recently-served order.
      create table fairness.subscription_stats (
        subscription_id text primary key,
        provider_id text not null,
        level_id text not null,
        last_received_at timestamptz not null,
        last_lead_id text not null,
        day date not null,
        day_count integer not null,
        month text not null,
        month_count integer not null
      );
    `,
  },
  {
    version: 2,
    name: 'money in bigint: levels.price_per_lead_cents',
    sql: `
      -- Every amount of money is a bigint (docs/limits.md): an integer price column stopped
      -- the levels projection for good at 2^31 cents, and new subscriptions then failed.
      alter table fairness.levels alter column price_per_lead_cents type bigint;
    `,
  },
];

export function migrateFairness(pool: pg.Pool): Promise<RunMigrationsResult> {
  return runMigrations(pool, { schema: SCHEMA, table: 'migrations', migrations });
}
