/**
 * Rebuilding read models from the event store into a schema: batches of the global log,
 * each applied to every projection and checkpointed once, in one transaction.
 */
import type pg from 'pg';
import { START, type Checkpoint, type EventStore, type StoredEvent } from '@fairlead/event-store';
import { CheckpointTable, compareCheckpoints, emptyControl, readControl } from '@fairlead/projections';
import { assertSchemaName, inSchema, type SchemaProjection, type WithApplyBatch } from './in-schema';

/** Where a rebuild stops: at the store's head, after the event at a global position, or at a time. */
export type Until = { kind: 'head' } | { kind: 'position'; position: bigint } | { kind: 'time'; time: Date };

export interface Progress {
  /** Events read so far (all categories the projections read). */
  events: number;
  /** Global position reached. */
  position: bigint;
  /** Global position of the store's head when the rebuild began (for a rate and an ETA). */
  head: bigint;
}

export interface RebuildOptions {
  store: EventStore;
  pool: pg.Pool;
  /** Target schema; created when missing. */
  schema: string;
  projections: readonly WithApplyBatch[];
  until?: Until;
  /** Events read (and written) per transaction. */
  batchSize?: number;
  onProgress?: (progress: Progress) => void;
}

export interface RebuildResult {
  /** The last checkpoint applied (START when the log was empty). */
  checkpoint: Checkpoint;
  events: number;
}

export const checkpointOf = (e: StoredEvent): Checkpoint => ({ transactionId: e.transactionId, globalPosition: e.globalPosition });

/** The categories to read: the union of the projections', or all when one reads every category. */
export function categoriesOf(projections: readonly WithApplyBatch[]): string[] | undefined {
  if (projections.some((p) => !p.categories)) return undefined;
  return [...new Set(projections.flatMap((p) => p.categories ?? []))];
}

/** Creates the schema, its checkpoint table and every projection's tables (idempotent). */
export async function prepareSchema(pool: pg.Pool, schema: string, projections: readonly WithApplyBatch[]): Promise<void> {
  assertSchemaName(schema);
  const client = await pool.connect();
  try {
    await new CheckpointTable(schema).ensure(client);
    for (const p of projections) await inSchema(p, schema).setup(client);
  } finally {
    client.release();
  }
}

/** How far the schema has got: the lowest checkpoint among the projections. */
export async function schemaCheckpoint(db: Pick<pg.ClientBase, 'query'>, schema: string, projections: readonly WithApplyBatch[]): Promise<Checkpoint> {
  const table = new CheckpointTable(schema);
  let lowest: Checkpoint | undefined;
  for (const p of projections) {
    const c = await table.read(db as pg.PoolClient, p.name);
    if (!lowest || compareCheckpoints(c, lowest) < 0) lowest = c;
  }
  return lowest ?? START;
}

export interface ApplyRangeOptions extends Omit<RebuildOptions, 'pool'> {
  from: Checkpoint;
  /** Run every batch on this client, inside the caller's transaction; else one transaction per batch from `pool`. */
  client?: pg.PoolClient;
  pool?: pg.Pool;
}

/** Applies the log after `from` up to the stop point; returns where it stopped. */
export async function applyRange(options: ApplyRangeOptions): Promise<RebuildResult> {
  const { store, schema, from, until = { kind: 'head' }, batchSize = 5_000 } = options;
  const targets: SchemaProjection[] = options.projections.map((p) => inSchema(p, schema));
  // Events an operator parked for a read model are skipped here too, as its live projector skips them.
  const parked = new Map(await Promise.all(options.projections.map(async (p) => [p.name, (await readControl(store, p.name, emptyControl())).parked] as const)));
  const checkpoints = new CheckpointTable(schema);
  const categories = categoriesOf(options.projections);
  // A position to stop at is found only when its event is read, whatever its category.
  const readOptions = categories && until.kind !== 'position' ? { categories } : undefined;
  // The head is fixed at the start, so a rebuild ends even while appends go on (the switch-over catches up the rest).
  const head = await store.headCheckpoint(readOptions);
  let position = from;
  let count = 0;
  if (!head || compareCheckpoints(position, head) >= 0) return { checkpoint: position, events: 0 };

  let pending = store.readAll(position, batchSize, readOptions);
  for (;;) {
    const batch = await pending;
    let events = batch.events;
    let next = batch.checkpoint;
    let finished = batch.events.length === 0 || compareCheckpoints(batch.checkpoint, head) >= 0;
    const cut = stopIndex(events, until);
    if (cut !== undefined) {
      events = events.slice(0, cut);
      next = events.length > 0 ? checkpointOf(events.at(-1)!) : position;
      finished = true;
    } else if (until.kind === 'head' && compareCheckpoints(next, head) > 0) {
      // Do not run past the fixed head inside a batch either.
      events = events.filter((e) => compareCheckpoints(checkpointOf(e), head) <= 0);
      next = head;
    }
    if (!finished) {
      // Read the next batch while this one is written.
      pending = store.readAll(batch.checkpoint, batchSize, readOptions);
      pending.catch(() => undefined);
    }
    if (events.length > 0 || compareCheckpoints(next, position) > 0) {
      await inTransaction(options, async (client) => {
        for (const t of targets) {
          const skip = parked.get(t.definition.name);
          const mine = events.filter((e) => t.wants(e) && !skip?.has(e.id));
          if (mine.length > 0) await t.applyBatch(mine, client);
          await checkpoints.write(client, t.definition.name, next);
        }
      });
    }
    count += events.length;
    position = next;
    options.onProgress?.({ events: count, position: position.globalPosition, head: head.globalPosition });
    if (finished) return { checkpoint: position, events: count };
  }
}

/** Index of the first event past the `until` point in this batch, if any. */
function stopIndex(events: readonly StoredEvent[], until: Until): number | undefined {
  if (until.kind === 'head') return undefined;
  const i =
    until.kind === 'position'
      ? events.findIndex((e) => e.globalPosition === until.position) + 1 || undefined
      : events.findIndex((e) => e.createdAt.getTime() > until.time.getTime());
  if (i === undefined || i < 0) return undefined;
  return i;
}

async function inTransaction(options: ApplyRangeOptions, work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  if (options.client) return work(options.client);
  if (!options.pool) throw new Error('applyRange needs a pool or a client');
  const client = await options.pool.connect();
  try {
    await client.query('begin');
    await work(client);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** A fresh rebuild of the projections into `schema` (which must not exist yet). */
export async function rebuild(options: RebuildOptions): Promise<RebuildResult> {
  await prepareSchema(options.pool, options.schema, options.projections);
  const from = await schemaCheckpoint(options.pool, options.schema, options.projections);
  return applyRange({ ...options, from });
}
