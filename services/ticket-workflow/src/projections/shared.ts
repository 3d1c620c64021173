import type pg from 'pg';
import type { StoredEvent } from '@fairlead/event-store';
import type { DependencyEvent, DistributionEvent, ProjectEvent, TicketEvent, WorkerEvent, WorkerTypeEvent } from '../domain/index';

/** A pool or a client: queries run inside the projector's transaction or on the pool. */
export type Db = Pick<pg.ClientBase, 'query'>;

export type WorkflowEvent = TicketEvent | ProjectEvent | WorkerEvent | DistributionEvent | DependencyEvent | WorkerTypeEvent;

/** The domain view of a stored event (the store keeps data as JSON, typed by `type`). */
export const asWorkflowEvent = (event: StoredEvent): WorkflowEvent => ({ type: event.type, data: event.data }) as WorkflowEvent;

/**
 * Each read model's projector step. Returns nothing; it must be idempotent: a row keyed
 * by stream stores the stream version it has applied and ignores events at or below it.
 */
export type Apply = (event: StoredEvent, db: Db, schema: string) => Promise<void>;

/**
 * Bumps the stored version of the row of `table` keyed by `key`; true when the event is
 * new for that row. Every effect of an event on a stream's rows is gated by it.
 */
export async function claimVersion(db: Db, schema: string, table: string, keyColumn: string, key: string, version: number): Promise<boolean> {
  const { rowCount } = await db.query(`update ${schema}.${table} set version = $2 where ${keyColumn} = $1 and version < $2`, [key, version]);
  return (rowCount ?? 0) > 0;
}
