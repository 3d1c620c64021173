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
  {
    version: 3,
    name: 'outbox emails claimed (recorded, locked, read) and finished in one call each',
    sql: `
      -- A batch's emails are claimed by one autocommit call and finished by another: three round
      -- trips (facts, claim, finish) instead of six (facts, insert, begin, lock_outbox, update, commit).
      -- The locks are session-level advisory locks on the keys lock_outbox took (lock class, hashtext
      -- of the id as text), so a replica still on lock_outbox (migration 2, kept) excludes this one and
      -- back. They outlive the claim's transaction, so no transaction, hence no xid, is open while
      -- the emails are sent; the caller destroys its connection on any error (session locks
      -- survive a rollback; a closed session loses them).
      --
      -- claim_outbox: takes the locks (distinct keys, in one order for everyone: no deadlock, and
      -- a key taken once, so one unlock frees it), no xid while it waits; then records the new
      -- emails as queued (a row already there is kept, its content included); then reads the rows.
      -- A VOLATILE function takes a fresh snapshot for each statement it runs (PostgreSQL manual,
      -- "Function Volatility Categories"), so the insert and the read see everything committed by
      -- whoever held a lock before this call got it.
      create function notification.claim_outbox(
        lock_class integer, ids text[],
        new_ids uuid[], new_kinds text[], new_source_event_ids text[], new_source_streams text[], new_recipients text[],
        new_subjects text[], new_text_bodies text[], new_html_bodies text[], new_message_ids text[]
      ) returns setof notification.outbox
        language plpgsql volatile
        set search_path = pg_catalog, pg_temp
      as $$
      begin
        perform pg_advisory_lock(lock_class, s.k) from (select distinct hashtext(i) as k from unnest(ids) as i order by 1) s;
        insert into notification.outbox (id, kind, source_event_id, source_stream, recipient, subject, text_body, html_body, status, message_id)
          select e.id, e.kind, e.source_event_id, e.source_stream, e.recipient, e.subject, e.text_body, e.html_body, 'queued', e.message_id
            from unnest(new_ids, new_kinds, new_source_event_ids, new_source_streams, new_recipients, new_subjects, new_text_bodies, new_html_bodies, new_message_ids)
                 as e(id, kind, source_event_id, source_stream, recipient, subject, text_body, html_body, message_id)
           order by e.id
          on conflict do nothing;
        return query select o.* from notification.outbox o where o.id = any (ids::uuid[]);
      end
      $$;

      -- finish_outbox: writes the outcomes (sent; queued or failed with the error) and hands the
      -- locks over to its own transaction: each key taken again at transaction level (granted at
      -- once, this session holds it), then every session-level advisory lock of the session
      -- released. The keys stay held until this transaction commits, so whoever takes one next
      -- reads the outcome (a session-level unlock alone takes effect at once, before the commit:
      -- the next holder could read the row still queued and send it again).
      create function notification.finish_outbox(
        lock_class integer, ids text[],
        sent_ids uuid[], sent_responses text[],
        failed_ids uuid[], failed_statuses text[], failed_errors text[]
      ) returns void
        language plpgsql volatile
        set search_path = pg_catalog, pg_temp
      as $$
      begin
        update notification.outbox o
           set status = 'sent', attempts = o.attempts + 1, smtp_response = s.response, last_attempt_at = now(), sent_at = now(), updated_at = now()
          from unnest(sent_ids, sent_responses) as s(id, response)
         where o.id = s.id;
        update notification.outbox o
           set status = f.status, attempts = o.attempts + 1, last_error = f.error, last_attempt_at = now(), updated_at = now()
          from unnest(failed_ids, failed_statuses, failed_errors) as f(id, status, error)
         where o.id = f.id;
        perform pg_advisory_xact_lock(lock_class, s.k) from (select distinct hashtext(i) as k from unnest(ids) as i order by 1) s;
        perform pg_advisory_unlock_all();
      end
      $$;
    `,
  },
];

export function migrateNotification(pool: pg.Pool): Promise<RunMigrationsResult> {
  return runMigrations(pool, { schema: SCHEMA, table: 'migrations', migrations });
}
