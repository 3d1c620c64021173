/**
 * read_page: one page of the global log after a checkpoint, below the xmin watermark, with
 * the held-back flag (read.ts explains the columns). The same single statement the reader
 * used to send as text, moved into a function so that it is planned once per session, not
 * on every read: planning that statement cost twice its execution, and subscribers read on
 * every commit notification (bench:distribution: 17 reads per lead, 5 ms of PostgreSQL CPU
 * per lead in planning alone). enable_seqscan = off keeps the cached generic plan on the
 * (transaction_id, global_position) index however small the table was when it was made.
 * One statement, hence one snapshot, for the watermark, the page and the flag.
 */
export function readPageFunctionSql(s: string, options: { create: string; heldBack: string } = { create: 'create function', heldBack: HELD_BACK_ANY }): string {
  const { create, heldBack } = options;
  return `
${create} ${s}.read_page(p_transaction_id xid8, p_global_position bigint, p_limit integer, p_categories text[])
returns table (held_back boolean, global_position bigint, transaction_id xid8, event_id text, stream_name text,
               stream_version integer, created_at timestamptz, matches boolean, type text, data jsonb, metadata jsonb)
language plpgsql stable
set enable_seqscan = off
as $fn$
#variable_conflict use_column
begin
  return query
  with horizon as (
    select pg_snapshot_xmin(pg_current_snapshot()) as xmin
  ), watermark as (
    -- The newest transaction_id, by one backward step of the index. (Not EXISTS over
    -- transaction_id >= xmin: planned as a scan of the whole table from its oldest row.)
    select h.xmin,
           ${heldBack.replaceAll('${s}', s)} as held_back
      from horizon h
  )
  select w.held_back, p.*
  from watermark w
  left join lateral (
    select e.global_position, e.transaction_id, e.event_id::text, e.stream_name::text, e.stream_version, e.created_at,
           m.matches,
           case when m.matches then e.type end,
           case when m.matches then e.data end,
           case when m.matches then e.metadata end
    from ${s}.events e
    cross join lateral (select p_categories is null or split_part(e.stream_name, '-', 1) = any(p_categories) as matches) m
    where (e.transaction_id, e.global_position) > (p_transaction_id, p_global_position)
      and e.transaction_id < w.xmin
    order by e.transaction_id, e.global_position
    limit p_limit
  ) p on true;
end
$fn$;
`;
}

/** Migration 3's flag: some committed event is held back (of any category). */
const HELD_BACK_ANY = `coalesce((select b.transaction_id from \${s}.events b order by b.transaction_id desc limit 1) >= h.xmin, false)`;

/**
 * Migration 6's flag: some committed event *of the page's categories* is held back. A reader
 * of subscriptions need not re-poll while only leads' events wait behind an open transaction
 * (under load one almost always is): they would be skipped when readable anyway, and its own
 * categories' commits still wake it. One backward step of the index per held-back row,
 * at most 200; more than that held back counts as held back (the old rule).
 */
const HELD_BACK_OF_CATEGORIES = `coalesce((
             select bool_or(p_categories is null or split_part(b.stream_name, '-', 1) = any(p_categories)) or count(*) = 200
               from (select b.stream_name from \${s}.events b where b.transaction_id >= h.xmin order by b.transaction_id desc limit 200) b), false)`;

/** Migration 6: read_page's held-back flag counts only the categories read (rights are kept by create or replace). */
export const readPageHeldBackOfCategoriesSql = (s: string): string => readPageFunctionSql(s, { create: 'create or replace function', heldBack: HELD_BACK_OF_CATEGORIES });
