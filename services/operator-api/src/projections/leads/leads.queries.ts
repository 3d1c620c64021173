/** Reads of `operator.leads`: one lead's row, and the filtered, keyset-paginated list (how a row reads to operators: lead-status.ts). */
import type pg from 'pg';
import { z } from 'zod';
import { CursorTime, decodeCursor, encodeCursor, exactTime } from '../cursor';
import { EFFECTIVE_QUEUE_STATE_SQL } from './lead-status';
import type { LeadStatus, QueueState } from './leads.projection';

type Db = Pick<pg.Pool, 'query'>;

export interface LeadRow {
  lead_id: string;
  niche_id: string | null;
  status: LeadStatus;
  received_at: Date;
  approved_at: Date | null;
  consumer_name: string | null;
  postal_code: string | null;
  state: string | null;
  reject_reasons: string[] | null;
  queue_state: QueueState;
  request_id: string | null;
  requested_at: Date | null;
  requested_by: string | null;
  attempts: number;
  last_attempt_at: Date | null;
  last_error: string | null;
  outcome: 'success' | 'partial' | 'no_eligible' | 'failed' | null;
  start_order_position: number | null;
  assignments_count: number;
  skipped_count: number;
  completed_at: Date | null;
  duration_ms: number | null;
  redriven_at: Date | null;
  version: number;
}

export async function findLead(db: Db, leadId: string): Promise<LeadRow | undefined> {
  const { rows } = await db.query<LeadRow>(`select * from operator.leads where lead_id = $1`, [leadId]);
  return rows[0];
}

export interface LeadListFilter {
  niche_id?: string | undefined;
  status?: LeadStatus | undefined;
  /** The state the list shows (lead-status.ts: effectiveQueueState), not the stored column. */
  queue_state?: QueueState | undefined;
  /** Received at or after. */
  from?: Date | undefined;
  /** Received before. */
  to?: Date | undefined;
  cursor?: string | undefined;
  limit: number;
}

const LeadCursor = z.object({ t: CursorTime, id: z.string() }).strict();

/** Newest first; one index range scan per page whatever its depth. */
export async function listLeads(db: Db, filter: LeadListFilter): Promise<{ items: (LeadRow & { key: string })[]; next_cursor: string | null }> {
  const after = filter.cursor ? decodeCursor(LeadCursor, filter.cursor) : undefined;
  const { rows } = await db.query<LeadRow & { key: string }>(
    `select *, ${exactTime('received_at')} as key from operator.leads
      where ($1::text is null or niche_id = $1)
        and ($2::text is null or status = $2)
        and ($3::text is null or ${EFFECTIVE_QUEUE_STATE_SQL} = $3)
        and ($4::timestamptz is null or received_at >= $4)
        and ($5::timestamptz is null or received_at < $5)
        and ($6::timestamptz is null or (received_at, lead_id) < ($6::timestamptz, $7::text))
      order by received_at desc, lead_id desc
      limit $8`,
    [filter.niche_id ?? null, filter.status ?? null, filter.queue_state ?? null, filter.from ?? null, filter.to ?? null, after?.t ?? null, after?.id ?? null, filter.limit + 1],
  );
  const more = rows.length > filter.limit;
  const items = more ? rows.slice(0, filter.limit) : rows;
  const last = items[items.length - 1];
  return { items, next_cursor: more && last ? encodeCursor({ t: last.key, id: last.lead_id }) : null };
}
