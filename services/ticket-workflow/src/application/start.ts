import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { assertIdentifier, runMigrations, type PostgresEventStore } from '@fairlead/event-store';
import { startProjector, type ProjectorLogger, type RunningProjector } from '@fairlead/projections';
import { readModelMigrations, workflowProjection } from '../projections/index';
import { ConfinedRoot } from '../templates/confined-root';
import type { WorkflowContext } from './context';
import { startLiveFeed, type LiveFeed } from './live-updates';
import { projectorSync } from './read-model-sync';

export interface StartWorkflowOptions {
  /** The event store, in the same database as the read models (several streams are appended in one transaction). */
  store: PostgresEventStore;
  /** Pool of the database holding the read models. */
  pool: pg.Pool;
  /** Schema of the read models and their checkpoint. */
  schema?: string;
  clock?: () => Date;
  newId?: () => string;
  /** How long a command waits for the read models to show its effect. */
  readYourWritesTimeoutMs?: number;
  /** How long a taken task may go without a sign of life before it goes back to its queue (default 30 minutes). */
  taskLeaseMs?: number;
  /** Follow the store for live updates (MCP notifications, the REST event stream). */
  liveUpdates?: boolean;
  onLiveUpdateError?: (error: unknown) => void;
  /** Template distribution's roots (existing directories); without them distribution is refused. */
  files?: { templatesRoot: string; projectsRoot: string };
  /** Where the projector reports a stall on an event it cannot apply (it then waits for an operator, docs/limits.md). */
  logger?: ProjectorLogger;
}

export interface RunningWorkflow {
  ctx: WorkflowContext;
  projector: RunningProjector;
  /** Present with `liveUpdates`. */
  live?: LiveFeed;
  stop(): Promise<void>;
}

/** Migrates the read models, starts their projector, and returns the context every use case takes. */
export async function startTicketWorkflow(options: StartWorkflowOptions): Promise<RunningWorkflow> {
  const schema = assertIdentifier(options.schema ?? 'ticket_workflow', 'schema');
  const files = options.files
    ? { templates: await ConfinedRoot.open('templates', options.files.templatesRoot), projects: await ConfinedRoot.open('projects', options.files.projectsRoot) }
    : undefined;
  await runMigrations(options.pool, { table: 'migrations', schema, migrations: readModelMigrations(schema) });
  const projector = await startProjector({ store: options.store, pool: options.pool, schema, projection: workflowProjection(schema), ...(options.logger ? { logger: options.logger } : {}) });
  const ctx: WorkflowContext = {
    store: options.store,
    pool: options.pool,
    schema,
    clock: options.clock ?? (() => new Date()),
    newId: options.newId ?? randomUUID,
    sync: projectorSync(options.store, projector, { timeoutMs: options.readYourWritesTimeoutMs ?? 5_000 }),
    ...(files ? { files } : {}),
    ...(options.taskLeaseMs !== undefined ? { taskLeaseMs: options.taskLeaseMs } : {}),
  };
  const live = options.liveUpdates ? await startLiveFeed(options.store, options.onLiveUpdateError ? { onError: options.onLiveUpdateError } : {}) : undefined;
  return {
    ctx,
    projector,
    ...(live ? { live } : {}),
    stop: async () => {
      await live?.stop();
      await projector.stop();
    },
  };
}
