import type { ProjectionDefinition } from '@fairlead/projections';
import { applyToCoordinatorEvents } from './coordinator-events/coordinator-events';
import { applyToDependencies } from './dependencies/dependencies';
import { applyToDistributions } from './distributions/distributions';
import { applyToProjects } from './projects/projects';
import { applyToQueues } from './queues/queues';
import type { Apply } from './shared';
import { applyToTickets } from './tickets/tickets';
import { applyToWorkers } from './workers/workers';
import { applyToWorkerTypes } from './worker-types/worker-types';

export { readModelMigrations } from './migrations';
export * from './tickets/tickets';
export * from './queues/queues';
export * from './coordinator-events/coordinator-events';
export * from './workers/workers';
export * from './projects/projects';
export * from './distributions/distributions';
export * from './dependencies/dependencies';
export * from './worker-types/worker-types';
export { asWorkflowEvent, type Db, type WorkflowEvent } from './shared';

const READ_MODELS: readonly Apply[] = [
  applyToProjects,
  applyToTickets,
  applyToQueues,
  applyToCoordinatorEvents,
  applyToWorkers,
  applyToDistributions,
  applyToDependencies,
  applyToWorkerTypes,
];

/**
 * Stream categories of the ticket workflow (`template-distribution-…` has category
 * `template`). `projectkey` has no read model, but the projector follows it so that
 * read-your-writes after a key reservation has a position to wait for.
 */
export const WORKFLOW_CATEGORIES = ['ticket', 'project', 'projectkey', 'worker', 'template', 'ticketgraph', 'workertype'] as const;

/**
 * All read models as one projection: one subscription and one checkpoint, each event
 * applied to every read model in the transaction that stores the checkpoint.
 */
export function workflowProjection(schema: string, name = 'ticket_workflow_read_models'): ProjectionDefinition {
  return {
    name,
    categories: WORKFLOW_CATEGORIES,
    apply: async (event, client) => {
      for (const apply of READ_MODELS) await apply(event, client, schema);
    },
  };
}
