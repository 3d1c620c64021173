import { ERROR_CODES, isTicketWorkflowError, streams, ticketDecider, type ReleaseCause } from '../domain/index';
import { queryExpiredOrOrphanedTasks, queryTasksHeldBy } from '../projections/index';
import type { WorkflowContext } from './context';
import { execute, loadAggregate } from './event-sourcing';
import type { Input, ReleaseTaskInput, RenewTaskLeaseInput, ResumeTicketInput, UpdateWorkerStatusInput } from './schemas';
import { getTicket, type TicketView } from './tickets';
import { loadWorker, updateWorkerStatus } from './workers';

/**
 * A taken task belongs to its holder only while the holder is at work. It goes back to
 * its queue — the same task, in its old place, recorded as TicketTaskReleased with the
 * cause — when the coordinator releases it, when its worker fails or finishes, when the
 * holder shows no life (no comment, no renewal) for the lease, or when the ticket is
 * resumed after its work stopped.
 */

/** The coordinator (or an operator) lets go of a ticket's task: back to its queue for another worker. */
export async function releaseTask(ctx: WorkflowContext, input: Input<typeof ReleaseTaskInput>): Promise<TicketView> {
  await execute(ctx, streams.ticket(input.ticket_id), ticketDecider, {
    type: 'ReleaseTask' as const,
    ticketId: input.ticket_id,
    cause: 'released' as const,
    ...(input.reason ? { reason: input.reason } : {}),
    ...(input.worker_id ? { expectedHolder: input.worker_id } : {}),
    at: ctx.clock().toISOString(),
  });
  return getTicket(ctx, input.ticket_id, { comments: false });
}

/** The holder says it is still working: its lease starts again. */
export async function renewTaskLease(ctx: WorkflowContext, input: Input<typeof RenewTaskLeaseInput>) {
  const { state } = await execute(ctx, streams.ticket(input.ticket_id), ticketDecider, {
    type: 'RenewTaskLease' as const,
    ticketId: input.ticket_id,
    workerId: input.worker_id,
    at: ctx.clock().toISOString(),
  });
  return { ticket_id: input.ticket_id, task_id: state.task?.taskId ?? null, worker_id: input.worker_id, renewed_at: state.task?.lastActivityAt ?? null };
}

/**
 * Gets a stalled ticket going: a task held by a worker that stopped, is unknown, or is
 * silent past the lease goes back to its queue; a ticket with no task is queued for its
 * next stage. A holder still at work is not disturbed (release_task does that).
 */
export async function resumeTicket(ctx: WorkflowContext, input: Input<typeof ResumeTicketInput>, leaseMs: number): Promise<TicketView> {
  const { state } = await loadAggregate(ctx, streams.ticket(input.ticket_id), ticketDecider);
  const holder = state.task?.takenBy ?? null;
  const holderActive = holder !== null && (await holderAtWork(ctx, holder, state.task?.lastActivityAt ?? null, leaseMs));
  await execute(ctx, streams.ticket(input.ticket_id), ticketDecider, {
    type: 'ResumeTicket' as const,
    ticketId: input.ticket_id,
    taskId: ctx.newId(),
    holderActive,
    ...(input.reason ? { reason: input.reason } : {}),
    at: ctx.clock().toISOString(),
  });
  return getTicket(ctx, input.ticket_id, { comments: false });
}

async function holderAtWork(ctx: WorkflowContext, workerId: string, lastActivityAt: string | null, leaseMs: number): Promise<boolean> {
  try {
    const worker = await loadWorker(ctx, workerId);
    if (worker.stopped) return false;
  } catch (error) {
    if (isTicketWorkflowError(error) && error.code === ERROR_CODES.workerNotFound) return false;
    throw error;
  }
  return lastActivityAt === null || ctx.clock().getTime() - Date.parse(lastActivityAt) < leaseMs;
}

/** Every task a stopped worker held goes back to its queue (called when its status becomes finished or failed). */
export async function releaseTasksOf(ctx: WorkflowContext, workerId: string, reason: string): Promise<string[]> {
  const released: string[] = [];
  for (const task of await queryTasksHeldBy(ctx.pool, ctx.schema, workerId)) {
    if (await releaseQuietly(ctx, task.ticket_id, 'worker_stopped', reason, workerId)) released.push(task.ticket_id);
  }
  return released;
}

/**
 * One pass of the lease keeper: tasks whose holder stopped (a crash between the status
 * change and its releases included) or showed no life for `leaseMs` are released. The
 * ticket's stream decides again, so a renewal that came meanwhile keeps the task.
 */
export async function releaseExpiredTasks(ctx: WorkflowContext, leaseMs: number): Promise<Array<{ ticket_id: string; cause: ReleaseCause }>> {
  const now = ctx.clock();
  const released: Array<{ ticket_id: string; cause: ReleaseCause }> = [];
  for (const task of await queryExpiredOrOrphanedTasks(ctx.pool, ctx.schema, new Date(now.getTime() - leaseMs))) {
    const cause: ReleaseCause = task.holder_stopped ? 'worker_stopped' : 'lease_expired';
    const reason = task.holder_stopped ? `worker ${task.worker_id} stopped` : `no sign of life from ${task.worker_id} for ${Math.round(leaseMs / 1000)} s`;
    if (await releaseQuietly(ctx, task.ticket_id, cause, reason, task.worker_id, cause === 'lease_expired' ? leaseMs : undefined)) released.push({ ticket_id: task.ticket_id, cause });
  }
  return released;
}

/** A release that lost its reason meanwhile (taken over, renewed, done) is not an error: false. */
async function releaseQuietly(ctx: WorkflowContext, ticketId: string, cause: ReleaseCause, reason: string, holder: string, leaseMs?: number): Promise<boolean> {
  try {
    await execute(ctx, streams.ticket(ticketId), ticketDecider, {
      type: 'ReleaseTask' as const,
      ticketId,
      cause,
      reason,
      expectedHolder: holder,
      ...(leaseMs !== undefined ? { leaseMs } : {}),
      at: ctx.clock().toISOString(),
    });
    return true;
  } catch (error) {
    if (isTicketWorkflowError(error) && (error.code === ERROR_CODES.taskNotHeld || error.code === ERROR_CODES.taskLeaseActive)) return false;
    throw error;
  }
}

export interface LeaseKeeper {
  stop(): Promise<void>;
}

/** Runs releaseExpiredTasks every `intervalMs`; a failed pass is reported and the next one tries again. */
export function startLeaseKeeper(ctx: WorkflowContext, options: { leaseMs: number; intervalMs: number; onError: (error: unknown) => void }): LeaseKeeper {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => releaseExpiredTasks(ctx, options.leaseMs)).catch(options.onError);
  }, options.intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

/** update_worker_status: a worker that finished or failed lets go of every task it held (released back to their queues). */
export async function updateWorkerStatusReleasing(ctx: WorkflowContext, input: Input<typeof UpdateWorkerStatusInput>) {
  const worker = await updateWorkerStatus(ctx, input);
  if (input.status !== 'finished' && input.status !== 'failed') return worker;
  const released = await releaseTasksOf(ctx, input.worker_id, input.reason ?? `worker ${input.worker_id} ${input.status}`);
  return { ...worker, released_tickets: released };
}
