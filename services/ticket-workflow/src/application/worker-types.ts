import { ERROR_CODES, notFound, streams, workerTypeDecider, type WorkerTypeState } from '../domain/index';
import { queryOpenTicketsNeedingType, queryWorkers, queryWorkerTypes, type WorkerTypeRow } from '../projections/index';
import type { WorkflowContext } from './context';
import { execute, loadAggregate } from './event-sourcing';
import type { CreateWorkerTypeInput, Input, UpdateWorkerTypeInput, WorkerTypeRef } from './schemas';

/**
 * Worker types as managed entities: a description of what its workers do and the
 * instructions template each worker of the type receives when it registers. Registering a
 * worker of a type nobody created still works (types predate this); create the type to give
 * its workers instructions.
 */
export interface WorkerTypeView {
  worker_type: string;
  description: string;
  instructions: string | null;
}

const view = (s: WorkerTypeState): WorkerTypeView => ({ worker_type: s.name, description: s.description, instructions: s.instructions });
const rowView = (r: WorkerTypeRow) => ({ worker_type: r.name, description: r.description, instructions: r.instructions, created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString() });

export async function createWorkerType(ctx: WorkflowContext, input: Input<typeof CreateWorkerTypeInput>): Promise<WorkerTypeView> {
  const { state } = await execute(ctx, streams.workerType(input.worker_type), workerTypeDecider, {
    type: 'CreateWorkerType' as const,
    name: input.worker_type,
    description: input.description,
    instructions: input.instructions ?? null,
    at: ctx.clock().toISOString(),
  });
  return view(state);
}

export async function updateWorkerType(ctx: WorkflowContext, input: Input<typeof UpdateWorkerTypeInput>): Promise<WorkerTypeView> {
  const { state } = await execute(ctx, streams.workerType(input.worker_type), workerTypeDecider, {
    type: 'UpdateWorkerType' as const,
    name: input.worker_type,
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.instructions !== undefined ? { instructions: input.instructions } : {}),
    at: ctx.clock().toISOString(),
  });
  return view(state);
}

/** Refused while a worker of the type is not stopped or an open ticket still has a stage of it to do. */
export async function deleteWorkerType(ctx: WorkflowContext, input: Input<typeof WorkerTypeRef>): Promise<{ worker_type: string; deleted: true }> {
  const workers = (await queryWorkers(ctx.pool, ctx.schema, { workerType: input.worker_type })).filter((w) => w.status !== 'finished' && w.status !== 'failed');
  const tickets = await queryOpenTicketsNeedingType(ctx.pool, ctx.schema, input.worker_type);
  const inUseBy = [...workers.map((w) => `worker ${w.worker_id} (${w.status})`), ...tickets.map((t) => `open ticket ${t}`)];
  await execute(ctx, streams.workerType(input.worker_type), workerTypeDecider, { type: 'DeleteWorkerType' as const, name: input.worker_type, inUseBy, at: ctx.clock().toISOString() });
  return { worker_type: input.worker_type, deleted: true };
}

export async function getWorkerType(ctx: WorkflowContext, input: Input<typeof WorkerTypeRef>): Promise<WorkerTypeView> {
  const state = await findWorkerType(ctx, input.worker_type);
  if (!state) throw notFound(ERROR_CODES.workerTypeNotFound, `worker type '${input.worker_type}' does not exist`);
  return view(state);
}

export async function listWorkerTypes(ctx: WorkflowContext) {
  return (await queryWorkerTypes(ctx.pool, ctx.schema)).map(rowView);
}

/** The type's current state from its stream, or undefined when it was never created (or was deleted). */
export async function findWorkerType(ctx: WorkflowContext, name: string): Promise<WorkerTypeState | undefined> {
  const { state } = await loadAggregate(ctx, streams.workerType(name), workerTypeDecider);
  return state.exists ? state : undefined;
}
