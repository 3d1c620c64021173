import type pg from 'pg';
import type { ReaderStatus } from '@fairlead/contracts';
import { actAsSchemaOwner, type Checkpoint, type EventStore, type StoredEvent } from '@fairlead/event-store';
import { CheckpointTable, compareCheckpoints, writeCheckpoints } from './checkpoints';
import { emptyControl, readControl } from './control';
import { checkpointOf, Member, type ProjectorLogger } from './member';
import { isTransientDbError } from './transient';

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
  /** Running, or stalled on an event it cannot apply (which one, why, since when). */
  status(): ReaderStatus;
  /**
   * Resolves once everything visible in the store when called has been applied; rejects
   * at once (ProjectionStalledError) while the projection is stalled.
   */
  waitUntilCaughtUp(timeoutMs?: number): Promise<void>;
  /** Reads the control stream now instead of at the next poll (an operator's retry or park). */
  checkControl(): Promise<void>;
  /** Reads the log now instead of after the read spacing (a caller waiting for an event it just stored). */
  readNow(): void;
  stop(): Promise<void>;
  /** Rejects when the projector stopped on an error it could not pin on one event. */
  readonly done: Promise<void>;
}

export interface ProjectorOptions {
  store: EventStore;
  pool: pg.Pool;
  /** Schema holding the checkpoint table (usually the owning service's schema). */
  schema: string;
  projection: ProjectionDefinition;
  /**
   * Least time between two reads of the log once caught up (default 50 ms): a busy store
   * commits hundreds of times a second and each commit wakes every projector, mostly for
   * events of other categories; spacing the reads answers many commits with one.
   */
  minReadIntervalMs?: number;
  /** Categories whose commits are read at once, without the spacing (SubscribeOptions.eagerCategories). */
  eagerCategories?: readonly string[];
  /** Where stalls, resumptions and retried database failures are reported (pino-compatible). */
  logger?: ProjectorLogger;
  /** While a projection is stalled, how often its control stream is read for an operator's decision (default 1000 ms). */
  controlPollMs?: number;
}

export interface ProjectorGroupOptions extends Omit<ProjectorOptions, 'projection'> {
  /** Projections fed by one reader of the log, each with its own checkpoint row. */
  projections: readonly ProjectionDefinition[];
}

export { ProjectionStalledError, type ProjectorLogger } from './member';

/** How often the checkpoint rows follow events nobody applied (a restart reads at most this much again). */
const SKIPPED_CHECKPOINT_INTERVAL_MS = 1_000;

/**
 * A read model may trail the store by this much more under load; a projector reads at most
 * 20 times a second. At 10 ms, at a steady dozen leads a second, the four projector groups of
 * the lead path each read and committed on almost every one of ~70 commits a second, most of
 * the whole system's CPU per lead at that rate (bench:distribution). Waiters read at once.
 */
const DEFAULT_MIN_READ_INTERVAL_MS = 50;

/** A page failing for a database reason is retried this many times before its events are tried one by one. */
const TRANSIENT_RETRIES = 5;

/** Events read per query by a projection catching up after a stall. */
const CATCH_UP_PAGE = 500;

/**
 * Runs one projection: catches up from its stored checkpoint, then follows live appends.
 * Each page of the log read is applied and checkpointed in one transaction.
 */
export async function startProjector({ projection, ...options }: ProjectorOptions): Promise<RunningProjector> {
  const [projector] = await startProjectorGroup({ ...options, projections: [projection] });
  return projector!;
}

/**
 * Runs several projections over ONE reader of the log (a service's read models): each
 * page is read once, and each projection's events of it are applied, with every
 * projection's checkpoint, in one transaction. A projection starts from its own stored
 * checkpoint (the reader from the earliest of them; events a projection has applied
 * already are not given to it again). The projections stop together.
 *
 * An event a projection cannot apply never stops the others nor hides: when a page fails,
 * its events are applied again one by one, each projection in its own transaction; the
 * projection whose event fails stops just before it — stalled, reported by status(), the
 * logger and waitUntilCaughtUp — while the others go on. The stalled one watches its
 * control stream: an operator's retry tries the event again; a park skips it for good.
 * Either way it then catches up on what it missed and rejoins the group.
 */
export async function startProjectorGroup(options: ProjectorGroupOptions): Promise<RunningProjector[]> {
  const { store, pool, schema, projections } = options;
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
    // The read models belong to the schema's owner, whoever sets them up (a test harness as superuser, the operator CLI).
    await actAsSchemaOwner(client, schema);
    await checkpoints.ensure(client);
    await checkpoints.ensureTurn(client);
    for (const projection of projections) await projection.setup?.(client);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }

  const members: Member[] = [];
  for (const projection of projections) {
    const position = await checkpoints.read(pool, projection.name);
    members.push(new Member(projection, position, await readControl(store, projection.name, emptyControl()), options.logger));
  }
  const groupLock = `projector:${schema}:${[...names].sort().join(',')}`;
  /**
   * Replicas of a service run the same projections on the same rows. Their transactions
   * take turns (a lock per group, held to commit), and each first moves its members to what
   * the rows say was applied already: every event is applied once per service, not once
   * per process. Rows are what others committed, so the moves stand even if this rolls back.
   */
  const takeTurn = async (tx: pg.PoolClient, participants: readonly Member[]) => {
    // The lock and the rows in one call, named: parsed once per connection, not every page.
    const stored = await checkpoints.takeTurn(
      tx,
      groupLock,
      participants.map((m) => m.projection.name),
    );
    for (const m of participants) m.moveTo(stored.get(m.projection.name)!, true);
  };
  const from = members.map((m) => m.position).reduce((a, b) => (compareCheckpoints(a, b) <= 0 ? a : b));
  const categories = members.some((m) => !m.categories) ? undefined : [...new Set(members.flatMap((m) => [...m.categories!]))];
  let storedAt = Date.now();
  let stopping = false;

  // Pages of the group and a rejoining member's catch-up never run at once (see rejoin).
  let exclusive: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = exclusive.then(work, work);
    exclusive = run.catch(() => undefined);
    return run;
  };

  /** The rows of members whose position moved past their row without a transaction. */
  const storeSkipped = async () => {
    for (const m of members.filter((x) => compareCheckpoints(x.position, x.stored) > 0)) {
      await checkpoints.write(pool, m.projection.name, m.position);
      m.stored = m.position;
    }
    storedAt = Date.now();
  };

  /**
   * The page's events for the members taking part, in one transaction with their
   * checkpoints. On a failure that is not the database's, applyIsolated pins it on one event.
   */
  const applyPage = async (participants: readonly Member[], page: readonly StoredEvent[], isolateAny: boolean) => {
    const reached = checkpointOf(page[page.length - 1]!);
    if (participants.every((m) => m.eventsOf(page).length === 0)) {
      // Nobody's: nothing to apply, so no transaction; the rows catch up now and then.
      for (const m of participants) m.moveTo(reached);
      if (Date.now() - storedAt >= SKIPPED_CHECKPOINT_INTERVAL_MS) await storeSkipped();
      return;
    }
    let moving: Member[] = [];
    try {
      await inTransaction(pool, async (tx) => {
        await takeTurn(tx, participants);
        const work = participants.map((m) => ({ m, mine: m.eventsOf(page) }));
        moving = participants.filter((m) => compareCheckpoints(reached, m.position) > 0);
        for (const { m, mine } of work) if (mine.length > 0) await m.applyAll(mine, tx);
        await writeCheckpoints(
          checkpoints,
          tx,
          moving.map((m) => m.projection.name),
          reached,
        );
      });
    } catch (error) {
      if (isTransientDbError(error) && !isolateAny) throw error;
      await applyIsolated(page, participants, reached, isolateAny);
      return;
    }
    for (const m of moving) m.moveTo(reached, true);
    storedAt = Date.now();
  };

  /** Each member's events of the page on their own, one savepoint per event: a failing event stalls only its member. */
  const applyIsolated = async (page: readonly StoredEvent[], participants: readonly Member[], reached: Checkpoint, isolateAny: boolean) => {
    for (const m of participants) {
      const target = await inTransaction(pool, async (tx) => {
        await takeTurn(tx, [m]);
        const mine = m.eventsOf(page);
        const failure = await m.applyEachGuarded(mine, tx, (error) => isTransientDbError(error) && !isolateAny);
        const position = failure ? positionBefore(page, failure.event, m.position) : reached;
        if (compareCheckpoints(position, m.position) > 0) await checkpoints.write(tx, m.projection.name, position);
        return { position, failure };
      });
      m.moveTo(target.position, true);
      if (target.failure) m.stall(target.failure.event, target.failure.error);
    }
  };

  /** applyPage, retried while the database is away; after a few tries its events are tried one by one. */
  const applyRetrying = async (participants: () => readonly Member[], page: readonly StoredEvent[]) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await applyPage(participants(), page, attempt > TRANSIENT_RETRIES);
        return;
      } catch (error) {
        if (stopping || !isTransientDbError(error)) throw error;
        options.logger?.warn({ err: error, attempt }, 'projection page failed for a database reason; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 5_000)));
      }
    }
  };

  const subscription = store.subscribe({
    from,
    ...(categories ? { categories } : {}),
    minReadIntervalMs: options.minReadIntervalMs ?? DEFAULT_MIN_READ_INTERVAL_MS,
    ...(options.eagerCategories ? { eagerCategories: options.eagerCategories } : {}),
    // A page of the log is applied in one transaction with one checkpoint write (the events
    // of a busy moment cost one commit, not one each); a page with nothing to apply costs none.
    pageHandler: (page) =>
      serially(async () => {
        await applyRetrying(() => members.filter((m) => m.active), page);
        members.forEach((m) => m.wakeWaiters());
      }),
  });

  /**
   * A member resumed after a stall catches up on its own (it missed the group's pages
   * meanwhile), then rejoins. Its last read and the rejoin happen while no group page
   * runs, so nothing falls between the catch-up and the group's next page.
   */
  const rejoin = async (m: Member) => {
    while (!stopping && m.catchingUp) {
      await serially(async () => {
        const batch = await store.readAll(m.position, CATCH_UP_PAGE, m.categories ? { categories: [...m.categories] } : undefined);
        if (batch.events.length > 0) await applyRetrying(() => [m], batch.events);
        // The scan may pass events of other categories beyond the last one returned.
        if (!m.stalled) m.moveTo(batch.checkpoint);
        if (batch.events.length === 0 && compareCheckpoints(batch.checkpoint, m.position) <= 0) m.catchingUp = false;
      });
      m.wakeWaiters();
    }
  };

  const pollControl = async (m: Member) => {
    const retriesBefore = m.control.retries;
    await readControl(store, m.projection.name, m.control);
    if (m.stalled && (m.control.retries > retriesBefore || m.control.parked.has(m.stalled.event.id))) {
      m.resume(m.control.parked.has(m.stalled.event.id) ? 'parked' : 'retry');
      await rejoin(m);
    }
  };
  const controlPollMs = options.controlPollMs ?? 1_000;
  let polling = false;
  const poller = setInterval(() => {
    if (polling || !members.some((m) => m.stalled)) return;
    polling = true;
    void Promise.all(members.filter((m) => m.stalled).map((m) => pollControl(m)))
      .catch((err: unknown) => options.logger?.warn({ err }, 'could not read a projection control stream'))
      .finally(() => (polling = false));
  }, controlPollMs);
  poller.unref();

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true;
      clearInterval(poller);
      await subscription.stop();
      // A restart need not read the skipped events again.
      await storeSkipped().catch(() => undefined);
    })());

  return members.map((m) => ({
    name: m.projection.name,
    position: () => m.position,
    status: () => m.status(),
    done: subscription.done,
    stop,
    checkControl: () => pollControl(m),
    readNow: () => subscription.readNow(),
    waitUntilCaughtUp: async (timeoutMs = 15_000) => {
      m.throwIfStalled();
      // Everything committed, held back or not: a caller that just appended waits for its event.
      const head = await store.headCheckpoint({ ...(m.projection.categories ? { categories: m.projection.categories } : {}), includeHeldBack: true });
      if (head === undefined || compareCheckpoints(m.position, head) >= 0) return;
      // A waiter does not pay the read spacing: it knows there is something to read.
      subscription.readNow();
      await m.waitFor(head, timeoutMs);
    },
  }));
}

/** The checkpoint just before `event` in the page: where a member stalled on it stands. */
function positionBefore(page: readonly StoredEvent[], event: StoredEvent, current: Checkpoint): Checkpoint {
  const index = page.indexOf(event);
  if (index <= 0) return current;
  const previous = checkpointOf(page[index - 1]!);
  return compareCheckpoints(previous, current) > 0 ? previous : current;
}

async function inTransaction<T>(pool: pg.Pool, work: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const tx = await pool.connect();
  let broken: Error | undefined;
  try {
    await tx.query('begin');
    const result = await work(tx);
    await tx.query('commit');
    return result;
  } catch (error) {
    await tx.query('rollback').catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    tx.release(broken);
  }
}
