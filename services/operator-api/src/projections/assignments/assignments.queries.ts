/** Reads of `operator.assignments`, newest first, with the provider's current name. */
import type pg from 'pg';
import { z } from 'zod';
import { CursorTime, decodeCursor, encodeCursor, exactTime } from '../../http/cursor';

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

const SELECT = `select a.*, p.name as provider_name, ${exactTime('a.assigned_at')} as key
  from operator.assignments a left join operator.providers p on p.provider_id = a.provider_id`;

/** The original plan's page/limit listing of one lead (a lead has few assignments, so an offset is cheap). */
export async function leadAssignmentsPage(db: Db, leadId: string, page: number, limit: number): Promise<{ total: number; items: AssignmentRow[] }> {
  const [{ rows }, count] = await Promise.all([
    db.query<AssignmentRow>(`${SELECT} where a.lead_id = $1 order by a.assigned_at desc, a.assignment_id desc limit $2 offset $3`, [leadId, limit, (page - 1) * limit]),
    db.query<{ total: number }>(`select count(*)::int as total from operator.assignments where lead_id = $1`, [leadId]),
  ]);
  return { total: count.rows[0]?.total ?? 0, items: rows };
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
  const items = more ? rows.slice(0, filter.limit) : rows;
  const last = items[items.length - 1];
  return { items, next_cursor: more && last ? encodeCursor({ t: last.key, id: last.assignment_id }) : null };
}
