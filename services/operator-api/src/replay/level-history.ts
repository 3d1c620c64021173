/**
 * The decisions of some levels as the log holds them, for re-deriving their
 * least-recently-served order (ServedHistory): every pick, assignment, decline and
 * withdrawal of those levels up to a point, in log order, read a page at a time straight
 * from the store's table (no index serves "events of a level": an audit scans).
 */
import type pg from 'pg';
import { quoteIdentifier } from '@fairlead/event-store';
import { ServedHistory, type HistoryEvent, type HistoryRoundVerdict } from './served-history';

const TYPES = ['ProvidersSelected', 'LeadAssigned', 'ProviderSkipped', 'PicksWithdrawn'];
const PAGE = 5_000;

export async function* levelHistory(pool: pg.Pool, storeSchema: string, levelIds: readonly string[], untilPosition: bigint): AsyncGenerator<HistoryEvent> {
  const events = `${quoteIdentifier(storeSchema)}.events`;
  for (let after = 0n; ; ) {
    const { rows } = await pool.query<{ global_position: string; type: string; data: unknown }>(
      `select global_position::text, type, data from ${events}
        where global_position > $1 and global_position <= $2 and type = any($3::text[])
          and (data->>'level_id' = any($4::text[])
               or (type = 'PicksWithdrawn' and exists (select 1 from jsonb_array_elements(data->'picks') p where p->>'level_id' = any($4::text[]))))
        order by global_position
        limit ${PAGE}`,
      [after.toString(), untilPosition.toString(), TYPES, levelIds],
    );
    for (const r of rows) yield { type: r.type, data: r.data, globalPosition: BigInt(r.global_position) };
    if (rows.length < PAGE) return;
    after = BigInt(rows.at(-1)!.global_position);
  }
}

/** The history's verdict on every round of these levels up to the point, by global position. */
export async function verdictsOfLevels(pool: pg.Pool, storeSchema: string, levelIds: readonly string[], untilPosition: bigint): Promise<Map<string, HistoryRoundVerdict>> {
  const history = new ServedHistory();
  const verdicts = new Map<string, HistoryRoundVerdict>();
  if (levelIds.length === 0) return verdicts;
  for await (const event of levelHistory(pool, storeSchema, levelIds, untilPosition)) {
    const verdict = history.apply(event);
    if (verdict) verdicts.set(verdict.global_position, verdict);
  }
  return verdicts;
}
