import { ERROR_CODES, conflict, isAvailable, isTicketWorkflowError, queueNameOf, streams, ticketDecider, type WorkerStatus } from '../domain/index';
import { queryDependenciesOf, queryQueue, queryWorkers, type TaskRow } from '../projections/index';
import type { WorkflowContext } from './context';
import { execute, loadAggregate } from './event-sourcing';
import type { Input, QueueTaskInput, QueueTasksInput, TakeNextTaskInput } from './schemas';
import { getTicket, type TicketView } from './tickets';
import { loadWorker } from './workers';

export interface TaskView {
  task_id: string;
  ticket_id: string;
  worker_type: string;
  status: string;
  worker_id: string | null;
  title: string | null;
  queued_at: string;
  taken_at: string | null;
  /** Open tickets this one waits for; a blocked task is not handed out. */
  blocked_by: string[];
}

/** Puts a ticket on the queue of its next stage's worker type (any other type is refused), which must have an active or idle worker. */
export async function queueTask(ctx: WorkflowContext, input: Input<typeof QueueTaskInput>) {
  const workers = await queryWorkers(ctx.pool, ctx.schema, { workerType: input.worker_type });
  const available = workers.filter((w) => isAvailable(w.status as WorkerStatus));
  if (available.length === 0) {
    const known = workers.length > 0 ? ` (registered: ${workers.map((w) => `${w.worker_id} ${w.status}`).join(', ')})` : '';
    throw conflict(ERROR_CODES.noActiveWorker, `no active or idle worker of type '${input.worker_type}'${known}; register one with register_worker first`);
  }
  const taskId = ctx.newId();
  await execute(ctx, streams.ticket(input.ticket_id), ticketDecider, {
    type: 'QueueTask' as const,
    ticketId: input.ticket_id,
    taskId,
    workerType: input.worker_type,
    at: ctx.clock().toISOString(),
  });
  return { task_id: taskId, ticket_id: input.ticket_id, worker_type: input.worker_type, queue_name: queueNameOf(input.worker_type), available_workers: available.map((w) => w.worker_id) };
}

export async function getQueueTasks(ctx: WorkflowContext, input: Input<typeof QueueTasksInput>): Promise<TaskView[]> {
  const rows = await queryQueue(ctx.pool, ctx.schema, input.worker_type, input.include_taken ? ['queued', 'taken'] : ['queued'], input.limit, { readyOnly: false });
  return rows.map(taskView);
}

const taskView = (r: TaskRow): TaskView => ({
  task_id: r.task_id,
  ticket_id: r.ticket_id,
  worker_type: r.worker_type,
  status: r.status,
  worker_id: r.worker_id,
  title: r.title,
  queued_at: r.queued_at.toISOString(),
  taken_at: r.taken_at?.toISOString() ?? null,
  blocked_by: r.blocked_by,
});

/** The ticket's dependencies that are still open, from their own streams (the read model only lists them). */
export async function openDependencies(ctx: WorkflowContext, ticketId: string): Promise<string[]> {
  const open: string[] = [];
  for (const dependency of await queryDependenciesOf(ctx.pool, ctx.schema, [ticketId])) {
    const { state } = await loadAggregate(ctx, streams.ticket(dependency.depends_on), ticketDecider);
    if (state.exists && !state.closed) open.push(dependency.depends_on);
  }
  return open;
}

/**
 * Gives the worker the oldest READY task of its type's queue (a ticket waiting for open
 * dependencies is skipped). The read model only proposes candidates; the claim is an
 * append on the ticket's stream with its expected version, so when two workers race for
 * one task exactly one wins and the other moves on.
 */
export async function takeNextTask(ctx: WorkflowContext, input: Input<typeof TakeNextTaskInput>): Promise<{ task: TaskView; ticket: TicketView } | { task: null; message: string }> {
  const worker = await loadWorker(ctx, input.worker_id);
  if (worker.stopped) throw conflict(ERROR_CODES.workerStopped, `worker ${worker.workerId} has stopped (${worker.status}); it takes no tasks`);
  const tried = new Set<string>();
  for (let round = 0; round < 5; round++) {
    const candidates = (await queryQueue(ctx.pool, ctx.schema, worker.workerType, ['queued'], 20, { readyOnly: true })).filter((t) => !tried.has(t.task_id));
    if (candidates.length === 0) break;
    for (const candidate of candidates) {
      tried.add(candidate.task_id);
      try {
        const at = ctx.clock().toISOString();
        const blockedBy = await openDependencies(ctx, candidate.ticket_id);
        await execute(ctx, streams.ticket(candidate.ticket_id), ticketDecider, {
          type: 'TakeTask' as const,
          ticketId: candidate.ticket_id,
          openDependencies: blockedBy,
          taskId: candidate.task_id,
          worker: { workerType: worker.workerType, workerId: worker.workerId },
          at,
        });
        const ticket = await getTicket(ctx, candidate.ticket_id);
        return { task: { ...taskView(candidate), status: 'taken', worker_id: worker.workerId, taken_at: at, blocked_by: [] }, ticket };
      } catch (error) {
        // Someone else took it (or the ticket closed) since the read model saw it: next one.
        if (isTicketWorkflowError(error) && (error.code === ERROR_CODES.taskNotAvailable || error.code === ERROR_CODES.ticketBlocked)) continue;
        throw error;
      }
    }
  }
  return { task: null, message: `no ready task waiting in ${queueNameOf(worker.workerType)}` };
}
