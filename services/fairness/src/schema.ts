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
  {
    version: 3,
    name: 'pending_picks: picks waiting for billing count as served',
    sql: `
      -- Picks recorded in ProvidersSelected that billing has not answered yet, with the served
      -- time each was given; written in the transaction that appends them (and removed with
      -- the event that answers them), so the view the next lead is decided on holds every
      -- pick already in the log.
      create table fairness.pending_picks (
        lead_id text not null,
        provider_id text not null,
        level_id text not null,
        subscription_id text not null,
        served_at timestamptz not null,
        primary key (lead_id, provider_id, level_id)
      );
      create index pending_picks_subscription on fairness.pending_picks (subscription_id);

      -- Picks recorded before this table existed are in the log only: the service rebuilds
      -- the served view (subscription_stats + pending_picks) from the log once, at its next
      -- start, and records when here.
      create table fairness.served_view_state (
        id integer primary key default 1 check (id = 1),
        rebuilt_at timestamptz
      );
      insert into fairness.served_view_state (rebuilt_at) values (null);
    `,
  },
  {
    version: 4,
    name: 'flush_written: a flush in one statement, or not at all',
    sql: `
      -- flushWriters (application/lead-stream.ts) appends a flush's events and writes its
      -- served-view rows in ONE statement. This check, evaluated in that statement, undoes
      -- it whole unless every append wrote ('ok': no conflict, no re-append) and every stats
      -- row was written over the version read; the flush is then written the transactional
      -- way, which handles those cases.
      create function fairness.flush_written(p_outcomes text[], p_stats_expected integer, p_stats_written integer)
      returns boolean
      language plpgsql
      set search_path = pg_catalog, pg_temp
      as $fn$
      begin
        if exists (select 1 from unnest(p_outcomes) o where o is distinct from 'ok') or p_stats_written is distinct from p_stats_expected then
          raise exception 'fairness flush not written in one statement (append outcomes %, stats rows % of %)', p_outcomes, p_stats_written, p_stats_expected
            using errcode = 'FA001';
        end if;
        return true;
      end
      $fn$;
    `,
  },
];

export function migrateFairness(pool: pg.Pool): Promise<RunMigrationsResult> {
  return runMigrations(pool, { schema: SCHEMA, table: 'migrations', migrations });
}
