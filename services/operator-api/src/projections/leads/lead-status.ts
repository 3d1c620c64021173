/**
 * Where a lead's distribution stands, as operators read it: pure rules over one row of
 * `operator.leads` (no I/O), shared by the list, the status endpoint and their tests.
 * The stored `queue_state` is what the events said; what the API shows applies the
 * operator's redrive on top of it (a redrive is recorded by the API, not by an event).
 */
import type { LeadStatus, QueueState } from './leads.projection';

/** The columns the rules read (a whole LeadRow fits). */
export interface LeadProgress {
  status: LeadStatus;
  queue_state: QueueState;
  reject_reasons: string[] | null;
  requested_at: Date | null;
  attempts: number;
  last_attempt_at: Date | null;
  last_error: string | null;
  outcome: 'success' | 'partial' | 'no_eligible' | 'failed' | null;
  assignments_count: number;
  skipped_count: number;
  redriven_at: Date | null;
}

export type AttemptStatus = 'success' | 'failed' | 'queued' | 'none';

/** The work item's state as operators see it: a redriven dead letter is queued again. */
export function effectiveQueueState(lead: LeadProgress): QueueState {
  if (lead.queue_state === 'dead_lettered' && lead.redriven_at && (!lead.last_attempt_at || lead.redriven_at > lead.last_attempt_at)) return 'queued';
  return lead.queue_state;
}

/**
 * effectiveQueueState as SQL over a row of `operator.leads`, for the list's `queue_state`
 * filter: it must select the leads whose *shown* state is the one asked for (a redriven
 * dead letter is found as queued, not as dead-lettered). The same rule twice, in two
 * languages, because the filter runs in the database and the answer is shaped in the API;
 * leads.projection.int.test.ts checks that both agree on every case of the rule.
 */
export const EFFECTIVE_QUEUE_STATE_SQL = `(case when queue_state = 'dead_lettered' and redriven_at is not null
  and (last_attempt_at is null or redriven_at > last_attempt_at) then 'queued' else queue_state end)`;

export function lastAttemptStatus(lead: LeadProgress): AttemptStatus {
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
export function statusNotes(lead: LeadProgress): string {
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
