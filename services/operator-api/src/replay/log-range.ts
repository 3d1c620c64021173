/**
 * Points of the global log named by an operator (a global position or a time) turned into
 * checkpoints, and a streaming walk over a range of the log.
 */
import type pg from 'pg';
import { quoteIdentifier, type Checkpoint, type EventStore, type StoredEvent } from '@fairlead/event-store';
import { compareCheckpoints } from '@fairlead/projections';

export type Point = { kind: 'position'; position: bigint } | { kind: 'time'; time: Date };

/**
 * The checkpoint just before the first event at the point: the event at that global
 * position, or the first event (in log order) created at or after the time.
 */
export async function checkpointBefore(pool: pg.Pool, storeSchema: string, point: Point): Promise<Checkpoint | undefined> {
  const s = quoteIdentifier(storeSchema);
  const { rows } =
    point.kind === 'position'
      ? await pool.query<{ t: string; g: string }>(`select transaction_id::text as t, global_position::text as g from ${s}.events where global_position = $1`, [point.position.toString()])
      : await pool.query<{ t: string; g: string }>(
          `select transaction_id::text as t, global_position::text as g from ${s}.events where created_at >= $1 order by transaction_id, global_position limit 1`,
          [point.time],
        );
  const row = rows[0];
  if (!row) return undefined;
  const g = BigInt(row.g);
  return { transactionId: BigInt(row.t), globalPosition: g - 1n };
}

/** Whether an event lies past the `to` point (position: after that event; time: created later). */
export function pastPoint(event: StoredEvent, to: Point, toCheckpoint: Checkpoint | undefined): boolean {
  if (to.kind === 'time') return event.createdAt.getTime() > to.time.getTime();
  if (!toCheckpoint) return true;
  const last = { transactionId: toCheckpoint.transactionId, globalPosition: toCheckpoint.globalPosition + 1n };
  return compareCheckpoints({ transactionId: event.transactionId, globalPosition: event.globalPosition }, last) > 0;
}

/** Every event from `from` to `to` inclusive, in log order, a batch at a time. */
export async function* eventsBetween(
  store: EventStore,
  pool: pg.Pool,
  storeSchema: string,
  from: Point,
  to: Point,
  batchSize = 2_000,
): AsyncGenerator<StoredEvent> {
  let position = await checkpointBefore(pool, storeSchema, from);
  if (!position) return;
  const toCheckpoint = to.kind === 'position' ? await checkpointBefore(pool, storeSchema, to) : undefined;
  for (;;) {
    const batch = await store.readAll(position, batchSize);
    for (const event of batch.events) {
      if (pastPoint(event, to, toCheckpoint)) return;
      yield event;
    }
    if (batch.events.length < batchSize) return;
    position = batch.checkpoint;
  }
}

/** An event as one line of JSON (bigints as strings). */
export function eventLine(e: StoredEvent): string {
  return JSON.stringify({
    global_position: e.globalPosition.toString(),
    transaction_id: e.transactionId.toString(),
    id: e.id,
    stream: e.stream,
    stream_version: e.streamVersion,
    type: e.type,
    created_at: e.createdAt.toISOString(),
    data: e.data,
    metadata: e.metadata,
  });
}
