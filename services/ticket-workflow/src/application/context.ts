import type pg from 'pg';
import type { PostgresEventStore } from '@fairlead/event-store';
import type { ConfinedRoot } from '../templates/confined-root';

/** Waits until the read models have applied an appended event (read-your-writes for callers). */
export interface ReadModelSync {
  waitFor(stream: string, version: number): Promise<void>;
}

/** What every use case takes: dependencies are arguments, the clock and ids included. */
export interface WorkflowContext {
  /** The event store; a command's appends to several streams go in one transaction on `pool` (same database). */
  store: PostgresEventStore;
  /** Pool of the database holding the read models. */
  pool: pg.Pool;
  /** Schema of the read models. */
  schema: string;
  clock: () => Date;
  newId: () => string;
  sync: ReadModelSync;
  /** Appends re-decided after a version conflict before giving up. */
  maxAttempts?: number;
  /** Who is acting (from an authenticated identity: `mcp-agent`, `operator:<sub>`); recorded in each event's metadata. */
  actor?: string;
  /** How long a taken task may go without a sign of life from its holder before it goes back to its queue. */
  taskLeaseMs?: number;
  /** Where template distribution may read templates and write project files; without them it is refused. */
  files?: { templates: ConfinedRoot; projects: ConfinedRoot };
}
