import { ERROR_CODES, isTicketWorkflowError, notFound, streams, workerDecider, type WorkerStatus } from '../domain/index';
import { queryWorkers, type WorkerRow } from '../projections/index';
import type { WorkflowContext } from './context';
import { execute, loadAggregate } from './event-sourcing';
import type { Input, ListWorkersInput, RegisterWorkerInput, UpdateWorkerStatusInput } from './schemas';
import { findWorkerType } from './worker-types';

export interface WorkerView {
  worker_id: string;
  worker_type: string;
  status: string;
  queue_name: string;
  /** The instructions template of its worker type, when the type was created with one. */
  instructions?: string | null;
  registered_at?: string;
  updated_at?: string;
}

export async function registerWorker(ctx: WorkflowContext, input: Input<typeof RegisterWorkerInput>): Promise<WorkerView> {
  const { state } = await execute(ctx, streams.worker(input.worker_id), workerDecider, {
    type: 'RegisterWorker' as const,
    workerId: input.worker_id,
    workerType: input.worker_type,
    status: input.status,
    at: ctx.clock().toISOString(),
  });
  const type = await findWorkerType(ctx, state.workerType);
  return { worker_id: state.workerId, worker_type: state.workerType, status: state.status, queue_name: `queue:${state.workerType}`, instructions: type?.instructions ?? null };
}

export async function updateWorkerStatus(ctx: WorkflowContext, input: Input<typeof UpdateWorkerStatusInput>): Promise<WorkerView> {
  try {
    const { state } = await execute(ctx, streams.worker(input.worker_id), workerDecider, {
      type: 'ChangeWorkerStatus' as const,
      status: input.status,
      ...(input.reason ? { reason: input.reason } : {}),
      at: ctx.clock().toISOString(),
    });
    return { worker_id: state.workerId, worker_type: state.workerType, status: state.status, queue_name: `queue:${state.workerType}` };
  } catch (error) {
    throw withWorkerId(error, input.worker_id);
  }
}

export async function listWorkers(ctx: WorkflowContext, input: Input<typeof ListWorkersInput>): Promise<WorkerView[]> {
  const rows = await queryWorkers(ctx.pool, ctx.schema, { ...(input.worker_type ? { workerType: input.worker_type } : {}), ...(input.status ? { status: input.status } : {}) });
  return rows.map(workerView);
}

export const workerView = (r: WorkerRow): WorkerView => ({
  worker_id: r.worker_id,
  worker_type: r.worker_type,
  status: r.status,
  queue_name: r.queue_name,
  registered_at: r.registered_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

/** The worker as its own stream tells it (not the read model): for decisions. */
export async function loadWorker(ctx: WorkflowContext, workerId: string): Promise<{ workerId: string; workerType: string; status: WorkerStatus; stopped: boolean }> {
  const { state } = await loadAggregate(ctx, streams.worker(workerId), workerDecider);
  if (!state.exists) throw notFound(ERROR_CODES.workerNotFound, `worker ${workerId} is not registered; register it with register_worker first`);
  return state;
}

function withWorkerId(error: unknown, workerId: string): unknown {
  if (isTicketWorkflowError(error) && error.code === ERROR_CODES.workerNotFound) {
    return notFound(ERROR_CODES.workerNotFound, `worker ${workerId} is not registered; register it with register_worker first`);
  }
  return error;
}
