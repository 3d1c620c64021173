import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { assertIdentifier, runMigrations, type EventStore } from '@fairlead/event-store';
import { startProjector, type ProjectorLogger, type RunningProjector } from '@fairlead/projections';
import { readModelMigrations, workflowProjection } from '../projections/index';
import type { WorkflowContext } from './context';
import { projectorSync } from './read-model-sync';

export interface StartWorkflowOptions {
  store: EventStore;
  /** Pool of the database holding the read models. */
  pool: pg.Pool;
  /** Schema of the read models and their checkpoint. */
  schema?: string;
  clock?: () => Date;
  newId?: () => string;
  /** How long a command waits for the read models to show its effect. */
  readYourWritesTimeoutMs?: number;
  /** Where the projector reports a stall on an event it cannot apply (it then waits for an operator, docs/limits.md). */
  logger?: ProjectorLogger;
}

export interface RunningWorkflow {
  ctx: WorkflowContext;
  projector: RunningProjector;
  stop(): Promise<void>;
}

/** Migrates the read models, starts their projector, and returns the context every use case takes. */
export async function startTicketWorkflow(options: StartWorkflowOptions): Promise<RunningWorkflow> {
  const schema = assertIdentifier(options.schema ?? 'ticket_workflow', 'schema');
  await runMigrations(options.pool, { table: 'migrations', schema, migrations: readModelMigrations(schema) });
  const projector = await startProjector({ store: options.store, pool: options.pool, schema, projection: workflowProjection(schema), ...(options.logger ? { logger: options.logger } : {}) });
  const ctx: WorkflowContext = {
    store: options.store,
    pool: options.pool,
    schema,
    clock: options.clock ?? (() => new Date()),
    newId: options.newId ?? randomUUID,
    sync: projectorSync(options.store, projector, { timeoutMs: options.readYourWritesTimeoutMs ?? 5_000 }),
  };
  return { ctx, projector, stop: () => projector.stop() };
}
