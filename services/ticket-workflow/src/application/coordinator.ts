import { ERROR_CODES, notFound, streams, ticketDecider, workerDecider } from '../domain/index';
import { findCoordinatorEvents, queryCoordinatorEvents, type CoordinatorEventRow } from '../projections/index';
import type { WorkflowContext } from './context';
import { execute } from './event-sourcing';
import type { GetEventsInput, Input, MarkEventsProcessedInput } from './schemas';

export interface CoordinatorEventView {
  event_id: number;
  event_type: CoordinatorEventRow['event_type'];
  ticket_id: string | null;
  worker_id: string | null;
  worker_type: string | null;
  stage: string | null;
  stage_number: number | null;
  reason: string | null;
  created_at: string;
  processed: boolean;
}

export async function getEvents(ctx: WorkflowContext, input: Input<typeof GetEventsInput>): Promise<CoordinatorEventView[]> {
  const rows = await queryCoordinatorEvents(ctx.pool, ctx.schema, input.include_all ? undefined : input.processed, input.limit);
  return rows.map((r) => ({ ...r, event_id: Number(r.event_id), created_at: r.created_at.toISOString() }));
}

/**
 * Marks coordinator events processed. "Processed" is appended to the stream the event
 * came from (ticket or worker), so it is part of the history and survives rebuilds;
 * marking an event again is a no-op.
 */
export async function markEventsProcessed(ctx: WorkflowContext, input: Input<typeof MarkEventsProcessedInput>) {
  const ids = [...new Set(input.event_ids.map((id) => String(id)))];
  const found = await findCoordinatorEvents(ctx.pool, ctx.schema, ids);
  const missing = ids.filter((id) => !found.some((e) => e.event_id === id));
  if (missing.length > 0) throw notFound(ERROR_CODES.eventNotFound, `no coordinator event with id ${missing.join(', ')}`);
  const marked: number[] = [];
  const already: number[] = [];
  for (const event of found) {
    const at = ctx.clock().toISOString();
    const result =
      event.event_type === 'ticket_stage_completed'
        ? await execute(ctx, streams.ticket(event.ticket_id!), ticketDecider, { type: 'MarkStageCompletionProcessed' as const, ticketId: event.ticket_id!, stageNumber: event.stage_number!, at })
        : await execute(ctx, streams.worker(event.worker_id!), workerDecider, { type: 'MarkWorkerStopProcessed' as const, at });
    (result.events.length > 0 ? marked : already).push(Number(event.event_id));
  }
  return { marked, already_processed: already };
}
