/**
 * The rotation service's own tables (schema `rotation`), created by versioned migrations
 * at start-up. Add a new version to change them; never edit an applied one.
 */
import type pg from 'pg';
import { quoteIdentifier, runMigrations, type Migration, type RunMigrationsResult } from '@fairlead/event-store';

export const SCHEMA = 'rotation';

/** SQLSTATE of rotation.claims_recorded's refusal: a claim's row was there already (a race under another niche's lock). */
export const CLAIMS_RACED_SQLSTATE = 'RO001';

/** The migrations; `storeSchema` is the event store's schema, which lock_niche reads. */
const migrations = (storeSchema: string): Migration[] => [
  {
    version: 1,
    name: 'claims, level ids',
    sql: `
      -- One row per lead, written in the transaction that appends its StartLevelClaimed:
      -- a repeated claim answers from here, so a lead always gets the same start level.
      create table rotation.claims (
        lead_id text primary key,
        niche_id text not null,
        start_order_position integer not null,
        traversal jsonb not null,
        claimed_at timestamptz not null default now()
      );
      create index claims_niche on rotation.claims (niche_id);

      -- Level ids are global (other services key read models by them): one niche each.
      create table rotation.level_ids (
        level_id text primary key,
        niche_id text not null
      );
    `,
  },
  {
    version: 2,
    name: 'claims in two statements: lock_niche, claims_recorded',
    sql: `
      -- A claim (or a niche change with no rows of its own) as two autocommit statements under
      -- a session-level advisory lock of the niche (handleCommand's sessionLock, libs/event-sourcing):
      -- this call takes the lock and reads what the decision needs; the append (with the claims'
      -- rows in the same statement) hands the lock over to its own transaction, so it is held until
      -- that commit. The key is the one the transactional writes lock (pg_advisory_xact_lock of
      -- hashtextextended('rotation:niche:<id>', 0)): both kinds of writer take turns.
      --
      -- lock_niche: the lock first (no xid while it waits), then, in one statement of its own — a
      -- VOLATILE function takes a fresh snapshot for each statement it runs — the niche stream's
      -- events from p_from_version on (the cached state's version + 1), in version order, and the
      -- stored claims of p_lead_ids (any niche's), after them: everything the last holder committed.
      create function rotation.lock_niche(p_lock_key text, p_stream text, p_from_version integer, p_lead_ids text[])
      returns table (stream_version integer, type text, data jsonb, lead_id text, niche_id text, start_order_position integer, traversal jsonb)
        language plpgsql volatile
        set search_path = pg_catalog, pg_temp
        -- The generic plan PL/pgSQL keeps must stay on the indexes however small the tables were.
        set enable_seqscan = off
      as $$
      #variable_conflict use_column
      begin
        perform pg_advisory_lock(hashtextextended(p_lock_key, 0));
        return query
          select e.stream_version, e.type::text, e.data, null::text, null::text, null::integer, null::jsonb
            from ${quoteIdentifier(storeSchema)}.events e
           where e.stream_name = p_stream and e.stream_version >= p_from_version
          union all
          select null::integer, null::text, null::jsonb, c.lead_id, c.niche_id, c.start_order_position, c.traversal
            from rotation.claims c
           where c.lead_id = any (p_lead_ids)
          order by 1;
      end
      $$;

      -- claims_recorded: the check in the select list of the claims' statement (append_batch with
      -- the insert of their rows). The append wrote ('ok') but fewer rows were new than claims: some
      -- lead was claimed under another niche's lock meanwhile. Raising undoes the whole statement,
      -- events included; the caller asks again and finds that claim.
      create function rotation.claims_recorded(p_outcome text, p_inserted integer, p_claims integer)
      returns boolean
        language plpgsql volatile
        set search_path = pg_catalog, pg_temp
      as $$
      begin
        if p_outcome = 'ok' and p_inserted < p_claims then
          raise exception 'some leads were claimed in another niche at the same moment' using errcode = '${CLAIMS_RACED_SQLSTATE}';
        end if;
        return true;
      end
      $$;
    `,
  },
];

export function migrateRotation(pool: pg.Pool, storeSchema: string): Promise<RunMigrationsResult> {
  return runMigrations(pool, { schema: SCHEMA, table: 'migrations', migrations: migrations(storeSchema) });
}
