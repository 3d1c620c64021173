/**
 * append_batch: one round trip and one transaction for one append, or for several that
 * the store groups while others are in flight (group commit). Each append is decided on
 * its own, in order; outcome i of the returned arrays belongs to append i:
 * - 'ok': written; r_versions[i] is the stream's new version, r_positions[i] the global
 *   position of its last event;
 * - 'duplicate': all its ids were already stored as this very append (a retry after a
 *   lost reply): nothing written, the stored version and position are returned;
 * - 'conflict': the stream's version was not the expected one; r_versions[i] = actual
 *   (null: no stream). Found by a conditional UPDATE or INSERT ... ON CONFLICT DO NOTHING
 *   that touches zero rows, never by catching a unique violation;
 * - 'id_conflict': some ids are stored, but not as this append.
 * p_expected[i]: null = 'any', -1 = 'no_stream', n >= 0 = version n. Events are listed
 * append after append: p_counts[i] events for append i, p_app[k] = the append of event k.
 * p_notify: NOTIFY subscribers at commit. Every notifying commit in the cluster takes one
 * global lock, so the store's own autocommit batches leave it out and notify once per
 * round trip afterwards instead (notifier.ts); appends in a caller's transaction keep it.
 * The caller orders appends by stream name, so concurrent batches lock stream rows in
 * one order and cannot deadlock each other.
 */
export function appendFunctionSql(s: string, channel: string): string {
  return `
-- Rare path (some ids already stored): is it this very append, stored before?
create function ${s}.stored_append(p_stream text, p_ids text[])
returns table (r_same boolean, r_version integer, r_position bigint)
language plpgsql stable as $fn$
begin
  return query
  select coalesce(bool_and(e.stream_name = p_stream), false)
           and count(*) = cardinality(p_ids)
           and min(e.stream_version - u.ord) = max(e.stream_version - u.ord),
         max(e.stream_version),
         max(e.global_position)
  from unnest(p_ids) with ordinality as u(id, ord)
  join ${s}.events e on e.event_id = u.id;
end
$fn$;

${appendBatchSql(s, channel, { create: 'create function', payload: "''" })}`;
}

/**
 * The NOTIFY of an append in a caller's transaction names the categories of its streams
 * (`lead,wallet`), as the store's own notifier does (notifier.ts): a subscriber reading
 * other categories only is not woken by it. Migration 5 replaces append_batch with this.
 */
export const NOTIFY_CATEGORIES_SQL = `coalesce((select string_agg(distinct split_part(x, '-', 1), ',') from unnest(p_streams) x), '')`;

function appendBatchSql(s: string, channel: string, options: { create: string; payload: string }): string {
  const { create, payload } = options;
  return `${create} ${s}.append_batch(
  p_streams text[], p_expected integer[], p_counts integer[], p_app integer[],
  p_ids text[], p_types text[], p_data jsonb[], p_metadata jsonb[], p_notify boolean,
  out r_outcomes text[], out r_versions integer[], out r_positions bigint[])
language plpgsql
-- PL/pgSQL keeps a generic plan per session; one made while the tables were tiny would
-- stay a sequential scan as they grow. Every statement here is a key lookup.
set enable_seqscan = off
as $fn$
declare
  n_apps integer := cardinality(p_streams);
  v_base integer[];
  v_start integer[];
  v_written bigint[];
  v_stored_ids boolean;
  v_first integer := 1;
  v_ids text[];
  v_stream text;
  v_expected integer;
  v_count integer;
  v_current integer;
  v_won boolean;
  v_any_ok boolean := false;
  v_stored record;
  i integer;
begin
  r_outcomes := array_fill('ok'::text, array[n_apps]);
  r_versions := array_fill(null::integer, array[n_apps]);
  r_positions := array_fill(null::bigint, array[n_apps]);
  v_base := r_versions;
  v_start := r_versions;
  -- One probe for the whole batch; per-append checks only when some id is already stored.
  v_stored_ids := exists (select 1 from ${s}.events e where e.event_id = any(p_ids));

  for i in 1 .. n_apps loop
    v_stream := p_streams[i];
    v_expected := p_expected[i];
    v_count := p_counts[i];
    v_ids := p_ids[v_first : v_first + v_count - 1];
    v_start[i] := v_first;
    v_first := v_first + v_count;

    if v_stored_ids and exists (select 1 from ${s}.events e where e.event_id = any(v_ids)) then
      v_won := false;
    elsif v_expected is null then
      -- 'any': lock the stream row first, then look for the ids, so that a concurrent copy
      -- of this append that committed meanwhile is recognised instead of written twice.
      loop
        select st.version into v_current from ${s}.streams st where st.stream_name = v_stream for update;
        if not found then
          insert into ${s}.streams (stream_name, version) values (v_stream, v_count - 1) on conflict do nothing;
          v_won := found;
          v_current := -1;
          -- Not inserted: created concurrently; go round and lock it.
          exit when v_won;
        elsif exists (select 1 from ${s}.events e where e.event_id = any(v_ids)) then
          v_won := false;
          exit;
        else
          update ${s}.streams st set version = v_current + v_count where st.stream_name = v_stream and st.version = v_current;
          v_won := found;
          exit;
        end if;
      end loop;
    elsif v_expected = -1 then
      insert into ${s}.streams (stream_name, version) values (v_stream, v_count - 1) on conflict do nothing;
      v_won := found;
      v_current := -1;
    else
      update ${s}.streams st set version = v_expected + v_count where st.stream_name = v_stream and st.version = v_expected;
      v_won := found;
      v_current := v_expected;
    end if;

    if v_won then
      v_base[i] := v_current;
      r_versions[i] := v_current + v_count;
      v_any_ok := true;
    -- Not written: stored before (a retry, or a concurrent copy that won the race), or a conflict.
    elsif exists (select 1 from ${s}.events e where e.event_id = any(v_ids)) then
      select * into v_stored from ${s}.stored_append(v_stream, v_ids);
      r_outcomes[i] := case when v_stored.r_same then 'duplicate' else 'id_conflict' end;
      r_versions[i] := v_stored.r_version;
      r_positions[i] := v_stored.r_position;
    else
      r_outcomes[i] := 'conflict';
      r_versions[i] := (select st.version from ${s}.streams st where st.stream_name = v_stream);
    end if;
  end loop;

  if not v_any_ok then
    return;
  end if;
  -- The rows of every written append, in one statement. Positions are drawn in row order,
  -- so the sorted positions line up with the written rows.
  with written as (
    insert into ${s}.events (event_id, stream_name, stream_version, type, data, metadata)
    select u.id, p_streams[u.app], v_base[u.app] + (u.k::integer - v_start[u.app] + 1), u.type, u.data, coalesce(u.metadata, '{}'::jsonb)
    from unnest(p_ids, p_types, p_data, p_metadata, p_app) with ordinality as u(id, type, data, metadata, app, k)
    where v_base[u.app] is not null
    order by u.k
    returning global_position)
  select array_agg(w.global_position order by w.global_position) into v_written from written w;
  v_first := 0;
  for i in 1 .. n_apps loop
    if v_base[i] is not null then
      v_first := v_first + p_counts[i];
      r_positions[i] := v_written[v_first];
    end if;
  end loop;
  if p_notify then
    perform pg_notify('${channel}', ${payload});
  end if;
end
$fn$;
`;
}

/** Migration 5: append_batch's NOTIFY names the categories written; its rights and settings as migration 4 left them. */
export function appendNotifyCategoriesSql(s: string, channel: string): string {
  const signature = `${s}.append_batch(text[], integer[], integer[], integer[], text[], text[], jsonb[], jsonb[], boolean)`;
  return `
${appendBatchSql(s, channel, { create: 'create or replace function', payload: NOTIFY_CATEGORIES_SQL })}
alter function ${signature} security definer set search_path = pg_catalog, pg_temp;
revoke all on function ${signature} from public;
`;
}
