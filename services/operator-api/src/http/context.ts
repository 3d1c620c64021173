/** What the route handlers use; built once by startOperatorApi. */
import type pg from 'pg';
import type { EventStore } from '@fairlead/event-store';
import type { CommandBus } from '../application/commands';
import type { DeadLetterQueue } from '../application/dead-letters';

export interface ApiContext {
  pool: pg.Pool;
  store: EventStore;
  bus: CommandBus;
  dlq: DeadLetterQueue;
  clock: () => Date;
  newId: () => string;
}
