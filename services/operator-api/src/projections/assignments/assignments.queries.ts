/** Reads of `operator.assignments`, newest first, with the provider's current name. */
import type pg from 'pg';
import { z } from 'zod';
import { CursorTime, decodeCursor, encodeCursor, exactTime } from '../cursor';
import { centsOf } from '../upgrade';

type Db = Pick<pg.Pool, 'query'>;

export interface AssignmentRow {
  assignment_id: string;
  lead_id: string;
  niche_id: string;
  provider_id: string;
  provider_name: string | null;
  subscription_id: string;
  level_id: string;
  level_name: string;
  order_position: number;
  price_cents: number;
  status: 'active' | 'refunded';
  assigned_at: Date;
  refunded_at: Date | null;
  key: string;
}

// The provider's name as a scalar subquery, not a join: it is then looked up only for the
// rows the LIMIT lets through, so the plan (and cost) of the deepest page is the first's.
// A join let the planner hash all providers when it expected few rows (the last page).
const COLUMNS = `a.*, (select p.name from operator.providers p where p.provider_id = a.provider_id) as provider_name, ${exactTime('a.assigned_at')} as key`;
const SELECT = `select ${COLUMNS} from operator.assignments a`;

/** price_cents is a bigint column (a decimal string from pg): a number from here on, in place. */
function parsed<R extends { price_cents: number }>(rows: R[]): R[] {
  for (const row of rows) row.price_cents = centsOf(row.price_cents);
  return rows;
}

/** The page/limit listing of one lead's assignments (a lead has few assignments, so an offset is cheap). */
export async function leadAssignmentsPage(db: Db, leadId: string, page: number, limit: number): Promise<{ total: number; items: AssignmentRow[] }> {
  // One round trip: the lead's total rides along on every row of the page.
  const { rows } = await db.query<AssignmentRow & { total: number }>(
    `select ${COLUMNS}, count(*) over ()::int as total from operator.assignments a where a.lead_id = $1 order by a.assigned_at desc, a.assignment_id desc limit $2 offset $3`,
    [leadId, limit, (page - 1) * limit],
  );
  if (rows.length > 0) return { total: rows[0]!.total, items: parsed(rows).map(({ total: _, ...row }) => row) };
  // A page past the end carries no row to tell the total; ask for it.
  const count = await db.query<{ total: number }>(`select count(*)::int as total from operator.assignments where lead_id = $1`, [leadId]);
  return { total: count.rows[0]?.total ?? 0, items: [] };
}

export interface AssignmentFilter {
  lead_id?: string | undefined;
  provider_id?: string | undefined;
  niche_id?: string | undefined;
  status?: 'active' | 'refunded' | undefined;
  /** Assigned at or after. */
  from?: Date | undefined;
  /** Assigned before. */
  to?: Date | undefined;
  cursor?: string | undefined;
  limit: number;
}

const AssignmentCursor = z.object({ t: CursorTime, id: z.string() }).strict();

/** Keyset pagination: every page, the deepest included, is one index range scan of `limit + 1` rows. */
export async function listAssignments(db: Db, filter: AssignmentFilter): Promise<{ items: AssignmentRow[]; next_cursor: string | null }> {
  const after = filter.cursor ? decodeCursor(AssignmentCursor, filter.cursor) : undefined;
  const { rows } = await db.query<AssignmentRow>(
    `${SELECT}
      where ($1::text is null or a.lead_id = $1)
        and ($2::text is null or a.provider_id = $2)
        and ($3::text is null or a.niche_id = $3)
        and ($4::text is null or a.status = $4)
        and ($5::timestamptz is null or a.assigned_at >= $5)
        and ($6::timestamptz is null or a.assigned_at < $6)
        and ($7::timestamptz is null or (a.assigned_at, a.assignment_id) < ($7::timestamptz, $8::text))
      order by a.assigned_at desc, a.assignment_id desc
      limit $9`,
    [filter.lead_id ?? null, filter.provider_id ?? null, filter.niche_id ?? null, filter.status ?? null, filter.from ?? null, filter.to ?? null, after?.t ?? null, after?.id ?? null, filter.limit + 1],
  );
  const more = rows.length > filter.limit;
  const items = parsed(more ? rows.slice(0, filter.limit) : rows);
  const last = items[items.length - 1];
  return { items, next_cursor: more && last ? encodeCursor({ t: last.key, id: last.assignment_id }) : null };
}
