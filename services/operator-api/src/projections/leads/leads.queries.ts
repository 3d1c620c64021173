/** Reads of `operator.leads`: one lead's distribution status, and the filtered, keyset-paginated list. */
import type pg from 'pg';
import { z } from 'zod';
import { CursorTime, decodeCursor, encodeCursor, exactTime } from '../cursor';
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

export type AttemptStatus = 'success' | 'failed' | 'queued' | 'none';

/** The work item's state as operators see it: a redriven dead letter is queued again. */
export function effectiveQueueState(lead: LeadRow): QueueState {
  if (lead.queue_state === 'dead_lettered' && lead.redriven_at && (!lead.last_attempt_at || lead.redriven_at > lead.last_attempt_at)) return 'queued';
  return lead.queue_state;
}

export function lastAttemptStatus(lead: LeadRow): AttemptStatus {
  switch (effectiveQueueState(lead)) {
    case 'none':
      return 'none';
    case 'queued':
    case 'in_progress':
      return 'queued';
    case 'retrying':
    case 'dead_lettered':
      return 'failed';
    case 'completed':
      return lead.outcome === 'failed' ? 'failed' : 'success';
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One sentence for people: where the lead's distribution stands and what to do next. */
export function statusNotes(lead: LeadRow): string {
  if (lead.status === 'rejected') return `Rejected at intake: ${(lead.reject_reasons ?? []).join('; ')}`;
  const skipped = lead.skipped_count > 0 ? `, ${plural(lead.skipped_count, 'provider')} skipped` : '';
  switch (effectiveQueueState(lead)) {
    case 'none':
      return 'Approved; no distribution has been requested yet.';
    case 'queued':
      return lead.queue_state === 'dead_lettered' ? 'Redriven from the dead-letter queue; waiting to be retried.' : `Distribution queued at ${lead.requested_at?.toISOString() ?? 'an unknown time'}.`;
    case 'in_progress':
      return `Distribution in progress (attempt ${Math.max(1, lead.attempts)}); ${plural(lead.assignments_count, 'assignment')} so far${skipped}.`;
    case 'retrying':
      return `Attempt ${lead.attempts} failed (${lead.last_error ?? 'unknown error'}); it will be retried.`;
    case 'dead_lettered':
      return `Dead-lettered after ${plural(lead.attempts, 'attempt')} (${lead.last_error ?? 'unknown error'}); redrive it from the dead-letter queue or request distribution again.`;
    case 'completed':
      switch (lead.outcome) {
        case 'no_eligible':
          return 'Distribution completed: no eligible providers, no assignments.';
        case 'failed':
          return `Distribution completed without assignments: eligible providers could not be charged${skipped}.`;
        default:
          return `Distribution completed with ${plural(lead.assignments_count, 'assignment')}${skipped}.`;
      }
  }
}

export interface LeadListFilter {
  niche_id?: string | undefined;
  status?: LeadStatus | undefined;
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
        and ($3::text is null or queue_state = $3)
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
