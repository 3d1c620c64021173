import type pg from 'pg';
import type { Checkpoint, EventStore, StoredEvent } from '@fairlead/event-store';
import { CheckpointTable, compareCheckpoints } from './checkpoints';

export interface ProjectionDefinition {
  /** Unique name; the checkpoint row's key. */
  name: string;
  /** Stream categories it reads (`niche`, `subscription`, …); all when omitted. */
  categories?: readonly string[];
  /**
   * The event types apply() acts on; all when omitted. Others of its categories only move
   * the position (no transaction; the checkpoint row follows at most once a second, with
   * the next event applied, and at stop): a category's busy type (e.g. StartLevelClaimed
   * in `niche`) costs a projection that ignores it nothing.
   */
  eventTypes?: readonly string[];
  /** Creates or migrates the read model's tables (idempotent). */
  setup?(client: pg.PoolClient): Promise<void>;
  /**
   * Applies one event inside the transaction that also stores the checkpoint (one
   * transaction per page of the log), so an event is applied exactly once even across crashes.
   */
  apply(event: StoredEvent, client: pg.PoolClient): Promise<void>;
  /**
   * Optional: applies a batch of its events (in log order) with multi-row writes, to the
   * same effect as apply() on each in turn. Rebuilds use it, and the live projector for a
   * page of more than one event.
   */
  applyBatch?(events: readonly StoredEvent[], client: pg.PoolClient): Promise<void>;
}

export interface RunningProjector {
  readonly name: string;
  /** The last applied checkpoint. */
  position(): Checkpoint;
  /** Resolves once everything visible in the store when called has been applied. */
  waitUntilCaughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  /** Rejects when the projector stopped on an error. */
  readonly done: Promise<void>;
}

export interface ProjectorOptions {
  store: EventStore;
  pool: pg.Pool;
  /** Schema holding the checkpoint table (usually the owning service's schema). */
  schema: string;
  projection: ProjectionDefinition;
  /**
   * Least time between two reads of the log once caught up (default 10 ms): a busy store
   * commits hundreds of times a second and each commit wakes every projector, mostly for
   * events of other categories; spacing the reads answers many commits with one.
   */
  minReadIntervalMs?: number;
}

/** How often the checkpoint row follows events skipped by type (a restart reads at most this much again). */
const SKIPPED_CHECKPOINT_INTERVAL_MS = 1_000;

/** A read model may trail the store by this much more under load; a projector reads at most 100 times a second. */
const DEFAULT_MIN_READ_INTERVAL_MS = 10;

/**
 * Runs one projection: catches up from its stored checkpoint, then follows live appends.
 * Each page of the log read is applied and checkpointed in one transaction.
 */
export async function startProjector({ store, pool, schema, projection, minReadIntervalMs }: ProjectorOptions): Promise<RunningProjector> {
  const checkpoints = new CheckpointTable(schema);
  const client = await pool.connect();
  try {
    await checkpoints.ensure(client);
    await projection.setup?.(client);
  } finally {
    client.release();
  }
  let position = await checkpoints.read(pool, projection.name);
  const waiters = new Set<{ target: Checkpoint; resolve: () => void }>();
  const wanted = projection.eventTypes ? new Set(projection.eventTypes) : undefined;
  // The position stored in the checkpoint row (behind `position` only after skipped events).
  let stored = position;
  let storedAt = Date.now();
  const wakeWaiters = () => {
    for (const waiter of waiters) {
      if (compareCheckpoints(position, waiter.target) >= 0) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };
  const storeSkipped = async () => {
    if (compareCheckpoints(position, stored) <= 0) return;
    const at = position;
    await checkpoints.write(pool, projection.name, at);
    stored = at;
    storedAt = Date.now();
  };

  const subscription = store.subscribe({
    from: position,
    ...(projection.categories ? { categories: projection.categories } : {}),
    minReadIntervalMs: minReadIntervalMs ?? DEFAULT_MIN_READ_INTERVAL_MS,
    // A page of the log is applied in one transaction with one checkpoint write (the events
    // of a busy moment cost one commit, not one each); a page with nothing to apply costs none.
    pageHandler: async (page) => {
      const last = page[page.length - 1]!;
      const reached = { transactionId: last.transactionId, globalPosition: last.globalPosition };
      const mine = wanted ? page.filter((e) => wanted.has(e.type)) : page;
      if (mine.length === 0) {
        // Not ours: nothing to apply, so no transaction; the row catches up now and then.
        position = reached;
        if (Date.now() - storedAt >= SKIPPED_CHECKPOINT_INTERVAL_MS) await storeSkipped();
        wakeWaiters();
        return;
      }
      const tx = await pool.connect();
      try {
        await tx.query('begin');
        // Multi-row writes where the projection has them (the same effect as apply() on each).
        if (projection.applyBatch && mine.length > 1) await projection.applyBatch(mine, tx);
        else for (const event of mine) await projection.apply(event, tx);
        await checkpoints.write(tx, projection.name, reached);
        await tx.query('commit');
        position = reached;
        stored = reached;
        storedAt = Date.now();
      } catch (error) {
        await tx.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        tx.release();
      }
      wakeWaiters();
    },
  });

  return {
    name: projection.name,
    position: () => position,
    done: subscription.done,
    stop: async () => {
      await subscription.stop();
      // A restart need not read the skipped events again.
      await storeSkipped().catch(() => undefined);
    },
    waitUntilCaughtUp: async (timeoutMs = 15_000) => {
      // Everything committed, held back or not: a caller that just appended waits for its event.
      const head = await store.headCheckpoint({ ...(projection.categories ? { categories: projection.categories } : {}), includeHeldBack: true });
      if (head === undefined || compareCheckpoints(position, head) >= 0) return;
      await new Promise<void>((resolve, reject) => {
        const waiter = { target: head, resolve: () => (clearTimeout(timer), resolve()) };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`projection ${projection.name} did not catch up within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
  };
}
