import type pg from 'pg';
import type { Checkpoint, EventStore, StoredEvent } from '@fairlead/event-store';
import { CheckpointTable, compareCheckpoints, writeCheckpoints } from './checkpoints';

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

export interface ProjectorGroupOptions extends Omit<ProjectorOptions, 'projection'> {
  /** Projections fed by one reader of the log, each with its own checkpoint row. */
  projections: readonly ProjectionDefinition[];
}

/** How often the checkpoint rows follow events nobody applied (a restart reads at most this much again). */
const SKIPPED_CHECKPOINT_INTERVAL_MS = 1_000;

/** A read model may trail the store by this much more under load; a projector reads at most 100 times a second. */
const DEFAULT_MIN_READ_INTERVAL_MS = 10;

/**
 * Runs one projection: catches up from its stored checkpoint, then follows live appends.
 * Each page of the log read is applied and checkpointed in one transaction.
 */
export async function startProjector({ projection, ...options }: ProjectorOptions): Promise<RunningProjector> {
  const [projector] = await startProjectorGroup({ ...options, projections: [projection] });
  return projector!;
}

const categoryOf = (event: StoredEvent): string => event.stream.split('-', 1)[0] ?? '';

/**
 * Runs several projections over ONE reader of the log (a service's read models): each
 * page is read once, and each projection's events of it are applied, with every
 * projection's checkpoint, in one transaction. A projection starts from its own stored
 * checkpoint (the reader from the earliest of them; events a projection has applied
 * already are not given to it again). The projections stop together.
 */
export async function startProjectorGroup({ store, pool, schema, projections, minReadIntervalMs }: ProjectorGroupOptions): Promise<RunningProjector[]> {
  if (projections.length === 0) return [];
  const names = projections.map((p) => p.name);
  if (new Set(names).size !== names.length) throw new Error(`projection names must be unique: ${names.join(', ')}`);
  const checkpoints = new CheckpointTable(schema);
  const client = await pool.connect();
  try {
    // Replicas start at the same moment: `create … if not exists` racing itself fails, so
    // the set-up of a schema's read models is done by one process at a time.
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [`projector-setup:${schema}`]);
    await checkpoints.ensure(client);
    for (const projection of projections) await projection.setup?.(client);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }

  interface Member {
    projection: ProjectionDefinition;
    categories: Set<string> | undefined;
    types: Set<string> | undefined;
    /** What it has applied or skipped, in memory. */
    position: Checkpoint;
    /** What its checkpoint row says. */
    stored: Checkpoint;
    waiters: Set<{ target: Checkpoint; resolve: () => void }>;
  }
  const members: Member[] = [];
  for (const projection of projections) {
    const position = await checkpoints.read(pool, projection.name);
    members.push({
      projection,
      categories: projection.categories ? new Set(projection.categories) : undefined,
      types: projection.eventTypes ? new Set(projection.eventTypes) : undefined,
      position,
      stored: position,
      waiters: new Set(),
    });
  }
  const groupLock = `projector:${schema}:${[...names].sort().join(',')}`;
  const from = members.map((m) => m.position).reduce((a, b) => (compareCheckpoints(a, b) <= 0 ? a : b));
  const categories = members.some((m) => !m.categories) ? undefined : [...new Set(members.flatMap((m) => [...m.categories!]))];
  let storedAt = Date.now();

  const wakeWaiters = (m: Member) => {
    for (const waiter of m.waiters) {
      if (compareCheckpoints(m.position, waiter.target) >= 0) {
        m.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };
  /** The rows of members whose position moved past their row without a transaction. */
  const storeSkipped = async () => {
    const behind = members.filter((m) => compareCheckpoints(m.position, m.stored) > 0);
    for (const m of behind) {
      await checkpoints.write(pool, m.projection.name, m.position);
      m.stored = m.position;
    }
    storedAt = Date.now();
  };

  const subscription = store.subscribe({
    from,
    ...(categories ? { categories } : {}),
    minReadIntervalMs: minReadIntervalMs ?? DEFAULT_MIN_READ_INTERVAL_MS,
    // A page of the log is applied in one transaction with one checkpoint write (the events
    // of a busy moment cost one commit, not one each); a page with nothing to apply costs none.
    pageHandler: async (page) => {
      const last = page[page.length - 1]!;
      const reached = { transactionId: last.transactionId, globalPosition: last.globalPosition };
      const mineOf = (m: Member) =>
        page.filter(
          (e) =>
            compareCheckpoints({ transactionId: e.transactionId, globalPosition: e.globalPosition }, m.position) > 0 &&
            (!m.categories || m.categories.has(categoryOf(e))) &&
            (!m.types || m.types.has(e.type)),
        );
      if (members.every((m) => mineOf(m).length === 0)) {
        const moving = members.filter((m) => compareCheckpoints(reached, m.position) > 0);
        // Nobody's: nothing to apply, so no transaction; the rows catch up now and then.
        for (const m of moving) m.position = reached;
        if (Date.now() - storedAt >= SKIPPED_CHECKPOINT_INTERVAL_MS) await storeSkipped();
        members.forEach(wakeWaiters);
        return;
      }
      const tx = await pool.connect();
      try {
        await tx.query('begin');
        // Replicas of a service run the same projections on the same rows. Their page
        // transactions take turns (a lock per group, held to commit), and each applies only
        // what the rows say nobody has applied yet: every event is applied once per service,
        // not once per process.
        await tx.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [groupLock]);
        const stored = await checkpoints.readMany(tx, names);
        for (const m of members) {
          const s = stored.get(m.projection.name)!;
          if (compareCheckpoints(s, m.position) > 0) m.position = m.stored = s;
        }
        const work = members.map((m) => ({ m, mine: mineOf(m) }));
        const moving = members.filter((m) => compareCheckpoints(reached, m.position) > 0);
        for (const { m, mine } of work) {
          if (mine.length === 0) continue;
          // Multi-row writes where the projection has them (the same effect as apply() on each).
          if (m.projection.applyBatch && mine.length > 1) await m.projection.applyBatch(mine, tx);
          else for (const event of mine) await m.projection.apply(event, tx);
        }
        await writeCheckpoints(
          checkpoints,
          tx,
          moving.map((m) => m.projection.name),
          reached,
        );
        await tx.query('commit');
        for (const m of moving) m.position = m.stored = reached;
        storedAt = Date.now();
      } catch (error) {
        await tx.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        tx.release();
      }
      members.forEach(wakeWaiters);
    },
  });

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await subscription.stop();
      // A restart need not read the skipped events again.
      await storeSkipped().catch(() => undefined);
    })());

  return members.map((m) => ({
    name: m.projection.name,
    position: () => m.position,
    done: subscription.done,
    stop,
    waitUntilCaughtUp: async (timeoutMs = 15_000) => {
      // Everything committed, held back or not: a caller that just appended waits for its event.
      const head = await store.headCheckpoint({ ...(m.projection.categories ? { categories: m.projection.categories } : {}), includeHeldBack: true });
      if (head === undefined || compareCheckpoints(m.position, head) >= 0) return;
      await new Promise<void>((resolve, reject) => {
        const waiter = { target: head, resolve: () => (clearTimeout(timer), resolve()) };
        const timer = setTimeout(() => {
          m.waiters.delete(waiter);
          reject(new Error(`projection ${m.projection.name} did not catch up within ${timeoutMs} ms`));
        }, timeoutMs);
        m.waiters.add(waiter);
      });
    },
  }));
}
