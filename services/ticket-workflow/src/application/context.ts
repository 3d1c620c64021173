import type pg from 'pg';
import type { EventStore } from '@fairlead/event-store';

/** Waits until the read models have applied an appended event (read-your-writes for callers). */
export interface ReadModelSync {
  waitFor(stream: string, version: number): Promise<void>;
}

/** What every use case takes: dependencies are arguments, the clock and ids included. */
export interface WorkflowContext {
  store: EventStore;
  /** Pool of the database holding the read models. */
  pool: pg.Pool;
  /** Schema of the read models. */
  schema: string;
  clock: () => Date;
  newId: () => string;
  sync: ReadModelSync;
  /** Appends re-decided after a version conflict before giving up. */
  maxAttempts?: number;
}
