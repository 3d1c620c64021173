/**
 * Tables and functions of the PostgreSQL event store, as versioned migrations.
 * The schema name is configuration, checked as an identifier before it reaches SQL text.
 */
import type { Migration } from '../migrations';
import { assertIdentifier, quoteIdentifier } from '../identifiers';

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
  stream_name text primary key,
  version integer not null
);
create table ${s}.events (
  global_position bigserial primary key,
  -- Assigned when the row is written; readers stop below the oldest running transaction
  -- (pg_snapshot_xmin), so a transaction that commits late is never skipped.
  transaction_id xid8 not null default pg_current_xact_id(),
  event_id text not null unique,
  stream_name text not null,
  stream_version integer not null,
  type text not null,
  data jsonb not null,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  unique (stream_name, stream_version)
);
create index events_transaction_position on ${s}.events (transaction_id, global_position);
`,
    },
    {
      version: 2,
      name: 'append_events function',
      sql: appendFunctionSql(s, channel),
    },
  ];
}

/**
 * One round trip per append: the idempotency check, the optimistic version check
 * (conditional UPDATE / INSERT ... ON CONFLICT DO NOTHING: zero rows means conflict, no
 * unique violation is ever caught), the rows and the notification.
 * p_expected: null = 'any', -1 = 'no_stream', n >= 0 = version n.
 * Outcomes: 'ok', 'duplicate' (all ids stored as this very append: stored positions are
 * returned), 'conflict' (r_version = actual, null when the stream does not exist),
 * 'id_conflict' (some ids stored otherwise).
 */
function appendFunctionSql(s: string, channel: string): string {
  return `
create function ${s}.stored_append(p_stream text, p_ids text[])
returns table (r_found integer, r_same boolean, r_version integer, r_position bigint)
language sql stable as $fn$
  select count(*)::integer,
         coalesce(bool_and(e.stream_name = p_stream), true)
           and count(*) = cardinality(p_ids)
           and coalesce(min(e.stream_version - u.ord) = max(e.stream_version - u.ord), true),
         max(e.stream_version),
         max(e.global_position)
  from unnest(p_ids) with ordinality as u(id, ord)
  join ${s}.events e on e.event_id = u.id
$fn$;

create function ${s}.append_events(
  p_stream text, p_expected integer, p_ids text[], p_types text[], p_data jsonb[], p_metadata jsonb[])
returns table (r_outcome text, r_version integer, r_position bigint, r_appended integer)
language plpgsql as $fn$
declare
  v_count integer := cardinality(p_ids);
  v_current integer;
  v_stored record;
  v_last bigint;
  v_won boolean;
begin
  -- A retry of an append whose reply was lost finds its ids: answer as the first time.
  select * into v_stored from ${s}.stored_append(p_stream, p_ids);
  if v_stored.r_found > 0 then
    if v_stored.r_same then
      return query select 'duplicate'::text, v_stored.r_version, v_stored.r_position, 0;
    else
      return query select 'id_conflict'::text, null::integer, null::bigint, 0;
    end if;
    return;
  end if;

  if p_expected is null then
    -- 'any': optimistic loop on the current version, so concurrent copies of this
    -- append are recognised (below) instead of writing the same ids twice.
    loop
      select st.version into v_current from ${s}.streams st where st.stream_name = p_stream;
      if not found then
        insert into ${s}.streams (stream_name, version) values (p_stream, v_count - 1) on conflict do nothing;
        v_won := found;
        if v_won then v_current := -1; exit; end if;
      else
        update ${s}.streams st set version = v_current + v_count where st.stream_name = p_stream and st.version = v_current;
        v_won := found;
        if v_won then exit; end if;
      end if;
      select * into v_stored from ${s}.stored_append(p_stream, p_ids);
      if v_stored.r_found > 0 then
        return query select case when v_stored.r_same then 'duplicate' else 'id_conflict' end,
          v_stored.r_version, v_stored.r_position, 0;
        return;
      end if;
    end loop;
  elsif p_expected = -1 then
    insert into ${s}.streams (stream_name, version) values (p_stream, v_count - 1) on conflict do nothing;
    v_won := found;
    v_current := -1;
  else
    update ${s}.streams st set version = p_expected + v_count where st.stream_name = p_stream and st.version = p_expected;
    v_won := found;
    v_current := p_expected;
  end if;

  if not v_won then
    -- Lost the race; the winner may have been a concurrent copy of this very append.
    select * into v_stored from ${s}.stored_append(p_stream, p_ids);
    if v_stored.r_found > 0 then
      return query select case when v_stored.r_same then 'duplicate' else 'id_conflict' end,
        v_stored.r_version, v_stored.r_position, 0;
      return;
    end if;
    return query select 'conflict'::text, (select st.version from ${s}.streams st where st.stream_name = p_stream), null::bigint, 0;
    return;
  end if;

  with written as (
    insert into ${s}.events (event_id, stream_name, stream_version, type, data, metadata)
    select u.id, p_stream, v_current + u.ord::integer, u.type, u.data, coalesce(u.metadata, '{}'::jsonb)
    from unnest(p_ids, p_types, p_data, p_metadata) with ordinality as u(id, type, data, metadata, ord)
    order by u.ord
    returning global_position)
  select max(global_position) into v_last from written;

  perform pg_notify('${channel}', '');
  return query select 'ok'::text, v_current + v_count, v_last, v_count;
end
$fn$;
`;
}
