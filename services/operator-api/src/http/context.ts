/** What the route handlers use; built once by startOperatorApi. */
import type pg from 'pg';
import type { EventStore } from '@fairlead/event-store';
import type { CommandBus } from '../application/commands';
import type { DeadLetterQueue } from '../application/dead-letters';
import type { LogReaders } from '../application/readers';

export interface ApiContext {
  pool: pg.Pool;
  store: EventStore;
  /** The event store's schema in PostgreSQL (its `schema`, checked at start): the decision record reads its rounds' events there. */
  storeSchema: string;
  bus: CommandBus;
  dlq: DeadLetterQueue;
  /** The readers of the log across the system (projections, relay), as they report themselves. */
  readers: LogReaders;
  clock: () => Date;
  newId: () => string;
}
