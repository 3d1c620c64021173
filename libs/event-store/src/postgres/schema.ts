/**
 * Tables and functions of the PostgreSQL event store, as versioned migrations.
 * The schema name is configuration, checked as an identifier before it reaches SQL text.
 */
import type { Migration } from '../migrations';
import { assertIdentifier, quoteIdentifier } from '../identifiers';
import { appendFunctionSql, appendNotifyCategoriesSql } from './append-sql';
import { readPageFunctionSql, readPageHeldBackOfCategoriesSql } from './read-sql';

export const MIGRATIONS_TABLE = 'event_store_migrations';

/** NOTIFY channel woken by every committed append into this schema. */
export const notifyChannel = (schema: string): string => `${assertIdentifier(schema, 'schema')}_events`;

export function eventStoreMigrations(schema: string): Migration[] {
  const s = quoteIdentifier(schema, 'schema');
  const channel = notifyChannel(schema);
  return [
    {
      version: 1,
      name: 'streams and events',
      sql: `
create table ${s}.streams (
  stream_name text collate "C" primary key,
  version integer not null
);
create table ${s}.events (
  -- Unique by its sequence; looked up only together with transaction_id (index below).
  global_position bigserial not null,
  -- Assigned when the row is written; readers stop below the oldest running transaction
  -- (pg_snapshot_xmin), so a transaction that commits late is never skipped.
  transaction_id xid8 not null default pg_current_xact_id(),
  event_id text collate "C" not null unique,
  stream_name text collate "C" not null,
  stream_version integer not null,
  type text not null,
  data jsonb not null,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  primary key (stream_name, stream_version)
);
create index events_transaction_position on ${s}.events (transaction_id, global_position);
`,
    },
    {
      version: 2,
      name: 'append_batch function',
      sql: appendFunctionSql(s, channel),
    },
    {
      version: 3,
      name: 'read_page function',
      sql: readPageFunctionSql(s),
    },
    {
      version: 4,
      name: 'writes only through append_batch',
      // Services get SELECT on the tables and EXECUTE on these functions, never INSERT,
      // UPDATE or DELETE (docs/security.md#database): append_batch writes with its owner's
      // rights. A SECURITY DEFINER function must not resolve names through the caller's
      // search_path (a caller's own table or function could stand in for a built-in one):
      // pg_catalog first, pg_temp last; every table is schema-qualified anyway.
      sql: `
alter function ${s}.append_batch(text[], integer[], integer[], integer[], text[], text[], jsonb[], jsonb[], boolean)
  security definer set search_path = pg_catalog, pg_temp;
alter function ${s}.stored_append(text, text[]) set search_path = pg_catalog, pg_temp;
revoke all on function ${s}.append_batch(text[], integer[], integer[], integer[], text[], text[], jsonb[], jsonb[], boolean) from public;
revoke all on function ${s}.stored_append(text, text[]) from public;
revoke all on function ${s}.read_page(xid8, bigint, integer, text[]) from public;
`,
    },
    {
      version: 5,
      name: 'NOTIFY names the categories written',
      // A subscriber of other categories only (a read model of subscriptions, say) is not
      // woken by every lead's commit: at a steady low rate those wake-ups and their empty
      // reads were a read of the log per lead per such subscriber (bench:distribution).
      sql: appendNotifyCategoriesSql(s, channel),
    },
    {
      version: 6,
      name: 'held back only for the categories read',
      // With migration 5 a reader of other categories sleeps through lead commits, but it
      // still re-polled every 20–250 ms while any event was held back — under load, always.
      sql: readPageHeldBackOfCategoriesSql(s),
    },
  ];
}
