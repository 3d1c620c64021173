import { COORDINATOR, ERROR_CODES, conflict, streams, ticketDecider, type CloseStatus } from '../domain/index';
import type { WorkflowContext } from './context';
import { execute } from './event-sourcing';
import type { AddCommentInput, CloseTicketInput, CompleteStageInput, Input, UpdateStageInput } from './schemas';
import { getTicket, type CommentView, type TicketView } from './tickets';
import { loadWorker } from './workers';

/** What happens on a ticket between creation and closing: comments, stage completions, closing. */

export async function addComment(ctx: WorkflowContext, input: Input<typeof AddCommentInput>): Promise<CommentView> {
  const commentId = ctx.newId();
  const at = ctx.clock().toISOString();
  await execute(ctx, streams.ticket(input.ticket_id), ticketDecider, {
    type: 'AddComment' as const,
    ticketId: input.ticket_id,
    commentId,
    actor: { workerType: input.worker_type, workerId: input.worker_id },
    stageNumber: input.stage_number,
    content: input.content,
    at,
  });
  return { comment_id: commentId, worker_type: input.worker_type, worker_id: input.worker_id, stage_number: input.stage_number, content: input.content, created_at: at };
}

/**
 * A worker completes its stage: the comment and the stage change in one append, both stored
 * or neither. The worker must be registered, not stopped, of the type it claims (the
 * stage's), and hold the stage's task when someone holds it.
 */
export async function completeStage(ctx: WorkflowContext, input: Input<typeof CompleteStageInput>): Promise<TicketView> {
  const worker = await loadWorker(ctx, input.worker_id);
  if (worker.stopped) throw conflict(ERROR_CODES.workerStopped, `worker ${worker.workerId} has stopped (${worker.status}); it completes no stage`);
  if (worker.workerType !== input.worker_type) {
    throw conflict(ERROR_CODES.wrongWorkerType, `worker ${worker.workerId} is registered as '${worker.workerType}', not '${input.worker_type}'`);
  }
  await execute(ctx, streams.ticket(input.ticket_id), ticketDecider, {
    type: 'CompleteStage' as const,
    ticketId: input.ticket_id,
    stage: input.stage ?? input.worker_type,
    ...(input.stage_number !== undefined ? { stageNumber: input.stage_number } : {}),
    actor: { workerType: input.worker_type, workerId: input.worker_id },
    content: input.content,
    commentId: ctx.newId(),
    at: ctx.clock().toISOString(),
  });
  return getTicket(ctx, input.ticket_id, { comments: false });
}

/** The coordinator (or an operator) marks the next stage done without a report: the plan order holds, whoever holds the task. */
export async function updateStage(ctx: WorkflowContext, input: Input<typeof UpdateStageInput>): Promise<TicketView> {
  await execute(ctx, streams.ticket(input.ticket_id), ticketDecider, {
    type: 'CompleteStage' as const,
    ticketId: input.ticket_id,
    asOperator: true,
    stage: input.new_stage,
    ...(input.stage_number !== undefined ? { stageNumber: input.stage_number } : {}),
    actor: COORDINATOR,
    commentId: ctx.newId(),
    at: ctx.clock().toISOString(),
  });
  return getTicket(ctx, input.ticket_id, { comments: false });
}

export async function closeTicket(ctx: WorkflowContext, input: Input<typeof CloseTicketInput>): Promise<TicketView> {
  await closeWith(ctx, input.ticket_id, input.status, input.reason);
  return getTicket(ctx, input.ticket_id);
}

export async function closeWith(ctx: WorkflowContext, ticketId: string, status: CloseStatus, reason?: string): Promise<void> {
  await execute(ctx, streams.ticket(ticketId), ticketDecider, {
    type: 'CloseTicket' as const,
    ticketId,
    status,
    ...(reason ? { reason } : {}),
    commentId: ctx.newId(),
    at: ctx.clock().toISOString(),
  });
}
