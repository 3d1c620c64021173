/**
 * The notification service's own tables (schema `notification`), created by versioned
 * migrations at start-up. Add a new version to change them; never edit an applied one.
 */
import type pg from 'pg';
import { runMigrations, type Migration, type RunMigrationsResult } from '@fairlead/event-store';

export const SCHEMA = 'notification';

const migrations: Migration[] = [
  {
    version: 1,
    name: 'directory read model, outbox, caught mail',
    sql: `
      -- Directory: who and what an email names. Each row keeps the version of the stream
      -- event applied last, so a replayed event changes nothing.
      create table notification.providers (
        provider_id text primary key,
        name text not null,
        email text not null,
        version integer not null
      );
      create table notification.niches (
        niche_id text primary key,
        name text not null,
        version integer not null
      );
      create table notification.levels (
        level_id text primary key,
        niche_id text not null,
        name text not null,
        version integer not null
      );
      create table notification.subscriptions (
        subscription_id text primary key,
        provider_id text not null,
        niche_id text not null,
        level_id text not null,
        version integer not null
      );

      -- One row per email: recorded (queued) before sending, marked sent or failed after.
      -- id = UUID v5 of (kind, source event id), so a redelivered event finds its row.
      create table notification.outbox (
        id uuid primary key,
        seq bigint generated always as identity unique,
        kind text not null,
        source_event_id text not null,
        source_stream text not null,
        recipient text not null,
        subject text not null,
        text_body text not null,
        html_body text not null,
        status text not null check (status in ('queued', 'sent', 'failed')),
        attempts integer not null default 0,
        last_error text,
        message_id text not null,
        smtp_response text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        last_attempt_at timestamptz,
        sent_at timestamptz
      );
      create index outbox_status_seq on notification.outbox (status, seq);
      create unique index outbox_source on notification.outbox (kind, source_event_id);

      -- Mails received by the local catcher (when no SMTP_URL is configured).
      create table notification.caught_mail (
        id bigint generated always as identity primary key,
        received_at timestamptz not null default now(),
        envelope_from text,
        envelope_to text[] not null,
        subject text,
        message_id text,
        text_body text,
        html_body text,
        headers jsonb not null,
        size_bytes integer not null,
        raw text not null
      );
    `,
  },
  {
    version: 2,
    name: 'outbox emails locked and read in one call',
    sql: `
      -- Takes the email locks of these outbox ids (transaction-scoped advisory locks, in one order
      -- for everyone; hashtext of the id as text, as before this function), then reads their rows. One round trip
      -- for what took two. A VOLATILE function takes a fresh snapshot for each statement it runs
      -- (PostgreSQL manual, "Function Volatility Categories"), so the read sees everything
      -- committed by whoever held a lock before this call got it: the guarantee of a read
      -- issued as a statement of its own after the lock.
      create function notification.lock_outbox(lock_class integer, ids text[]) returns setof notification.outbox
        language plpgsql volatile
        set search_path = pg_catalog, pg_temp
      as $$
      begin
        perform pg_advisory_xact_lock(lock_class, s.k) from (select hashtext(i) as k from unnest(ids) as i order by 1) s;
        return query select o.* from notification.outbox o where o.id = any (ids::uuid[]);
      end
      $$;
    `,
  },
];

export function migrateNotification(pool: pg.Pool): Promise<RunMigrationsResult> {
  return runMigrations(pool, { schema: SCHEMA, table: 'migrations', migrations });
}
