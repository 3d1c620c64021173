/**
 * The one way a command is handled: load the stream's state, decide, append with the
 * version decided on, and — when someone else appended in between — read again and decide
 * again, a bounded number of times. Options add what the services need around that loop:
 * a lock (in-process queue, advisory lock, row lock), rows of the service's own written in
 * the append's transaction, a loader other than folding the stream (a cache, a snapshot
 * row), and the caller's own expected version (an If-Match), whose conflict is the
 * caller's to resolve and is therefore never retried.
 *
 * With a database lock the command runs in a transaction: BEGIN, the lock, the reads, the
 * append, the rows alongside, COMMIT. With a session lock (`sessionLock`) it runs as two
 * autocommit statements on one connection instead: the lock and the reads (one call when the
 * loader takes the lock), then the append, the rows alongside as SQL of the same statement
 * (`alongsideStatement`) and the lock handed over to that statement's transaction.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { ConcurrencyError, type AppendStatement, type NewEvent, type PostgresEventStore, type StoredEvent } from '@fairlead/event-store';
import { foldEvents, type Decider, type DomainEvent } from './decider';
import { DEFAULT_MAX_CONFLICTS, retryOnConflict } from './retry';
import {
  handOverSessionLockSql,
  needsTransaction,
  noLock,
  releaseSessionLock,
  releaseSessionLocks,
  Semaphore,
  takeLock,
  takeSessionLock,
  type KeyedMutex,
  type LockStrategy,
  type SessionLock,
} from './locks';

/** What handleCommand works with. `pool` is needed for a database lock or rows alongside (one transaction). */
export interface CommandHandlingDeps {
  store: PostgresEventStore;
  pool?: pg.Pool;
  /** Ids of events the decider did not name (default: random UUIDs). */
  newId?: () => string;
}

/** A stream's state and version (-1: the stream does not exist). */
export interface Loaded<State> {
  state: State;
  version: number;
}

export interface LoadContext {
  stream: string;
  /** The open transaction, when the command runs in one. */
  tx: pg.ClientBase | undefined;
  /** Rows a row lock returned (empty for other locks). */
  lockedRows: readonly Record<string, unknown>[];
  /** True when an earlier attempt lost a race: a snapshot may be out of step with the stream. */
  afterConflict: boolean;
  /**
   * Under `sessionLock`: the command's connection, and `lockKey` when the loader is to take
   * the lock on it (SessionLock.takenByLoad) before it reads — undefined when it is held
   * already. Undefined without a session lock, and for the re-read after an append found
   * already stored (the lock is released by then).
   */
  session?: { client: pg.ClientBase; lockKey: string | undefined };
}

export interface CommandOutcome<Event, State> {
  /** The state after the decided events (after the stored ones when the append was an idempotent repeat). */
  state: State;
  /** The state the decision was taken on. */
  before: State;
  /** The events decided ([] when the command changed nothing). */
  events: readonly Event[];
  /** The stream's version after the command; -1 when it does not exist. */
  version: number;
  /** Events new to the store: 0 for a no-op decision or an idempotent repeat of stored events. */
  appended: number;
}

export interface HandleCommandOptions<Event extends DomainEvent, State> {
  /**
   * A stored event as the decider's event (validate it here), or undefined for an event the
   * decider does not read (it still counts for the version). Default: its type and data.
   */
  decode?: (event: StoredEvent) => Event | undefined;
  /** Reads the state another way than folding the whole stream (a cache, a snapshot row). */
  load?: (context: LoadContext) => Promise<Loaded<State>>;
  /** The version the caller decided against (If-Match): a mismatch throws ConcurrencyError at once, never retried. */
  expectedVersion?: number | 'no_stream';
  /** Re-reads after a lost race before TooManyConflictsError (default 5; 0: never retry). */
  maxConflicts?: number;
  /** Metadata of every appended event (an event's own metadata is merged over it). */
  metadata?: Record<string, unknown>;
  /** How the command waits its turn in the database (default: optimistic only). */
  lock?: LockStrategy;
  /**
   * Queue this process's commands per key (default key: the stream). `slots` bounds the
   * transactions in flight (default: half the pool, shared by every command on that pool).
   */
  inProcess?: { mutex: KeyedMutex; key?: string; slots?: Semaphore };
  /**
   * The service's own rows, written in the append's transaction after it — only when
   * events were appended, so a repeat writes nothing twice.
   */
  alongside?: (tx: pg.ClientBase, outcome: CommandOutcome<Event, State>) => Promise<void>;
  /**
   * Instead of `lock` and a transaction: a session-level advisory lock, held from the load
   * to the statement that appends (locks.ts, SessionLock). A command then costs two
   * statements: lock and load (one, with `takenByLoad`), then the append with
   * `alongsideStatement` — or an unlock when nothing was decided. Not with `lock` or `alongside`.
   */
  sessionLock?: SessionLock;
  /**
   * The rows alongside as SQL of the append's own statement (the event store's
   * appendManyWith: CTEs after `appended`, and a check in `select` that raises to undo the
   * whole statement). Given the outcome as it will be when the append writes (`appended` =
   * its events); the SQL must write only when `appended.r_outcomes[1] = 'ok'` (a repeat or a
   * conflict writes no events, and must write no rows). Only with `sessionLock`.
   */
  alongsideStatement?: (outcome: CommandOutcome<Event, State>) => AppendStatement | undefined;
}

/** A stream's state by folding its events (the default loader). */
export async function loadStream<Event extends DomainEvent, State>(
  store: Pick<PostgresEventStore, 'readStream'>,
  stream: string,
  decider: Pick<Decider<never, Event, State>, 'evolve' | 'initialState'>,
  decode: (event: StoredEvent) => Event | undefined = (e) => ({ type: e.type, data: e.data }) as Event,
): Promise<Loaded<State>> {
  const stored = await store.readStream(stream);
  const events: Event[] = [];
  for (const e of stored) {
    const event = decode(e);
    if (event) events.push(event as Event);
  }
  return { state: foldEvents(decider, events), version: stored.at(-1)?.streamVersion ?? -1 };
}

/** Handles one command on one stream; see the module comment. Throws the decider's refusal as it is. */
export async function handleCommand<Command, Event extends DomainEvent, State>(
  deps: CommandHandlingDeps,
  stream: string,
  decider: Decider<Command, Event, State>,
  command: Command,
  options: HandleCommandOptions<Event, State> = {},
): Promise<CommandOutcome<Event, State>> {
  const transactional = needsTransaction(options.lock ?? noLock) || options.alongside !== undefined;
  if (options.sessionLock && transactional) throw new Error(`handleCommand on ${stream}: a session lock goes without \`lock\` and \`alongside\` (use alongsideStatement)`);
  if (options.alongsideStatement && !options.sessionLock) throw new Error(`handleCommand on ${stream}: alongsideStatement needs a session lock`);
  const connected = transactional || options.sessionLock !== undefined;
  if (connected && !deps.pool) throw new Error(`handleCommand on ${stream}: a database lock or rows alongside need deps.pool`);
  const run = () => handle(deps, stream, decider, command, options, transactional);
  const bounded = connected ? () => transactionSlots(deps.pool!, options.inProcess?.slots).run(run) : run;
  const queue = options.inProcess;
  return queue ? queue.mutex.run(queue.key ?? stream, bounded) : bounded();
}

const poolSlots = new WeakMap<pg.Pool, Semaphore>();

/**
 * A command in a transaction holds one pooled connection and reads the stream on another:
 * with every connection held by commands waiting for a lock, the one holding it could not
 * read. So the transactions in flight on a pool are bounded — by the caller's semaphore, or
 * by one per pool at half its size.
 */
export function transactionSlots(pool: pg.Pool, slots: Semaphore | undefined): Semaphore {
  if (slots) return slots;
  let shared = poolSlots.get(pool);
  if (!shared) poolSlots.set(pool, (shared = new Semaphore(Math.max(1, Math.floor((pool.options.max ?? 10) / 2)))));
  return shared;
}

async function handle<Command, Event extends DomainEvent, State>(
  deps: CommandHandlingDeps,
  stream: string,
  decider: Decider<Command, Event, State>,
  command: Command,
  options: HandleCommandOptions<Event, State>,
  transactional: boolean,
): Promise<CommandOutcome<Event, State>> {
  const lock = options.lock ?? noLock;
  const maxConflicts = options.maxConflicts ?? DEFAULT_MAX_CONFLICTS;
  const load =
    options.load ?? ((context: LoadContext) => loadStream(deps.store, context.stream, decider, options.decode));

  const one = { deps, stream, decider, command, options, load };
  const session = options.sessionLock;
  // In a transaction: the lock first, then load, decide, append and the rows alongside; under a
  // session lock: autocommit statements on one connection; else optimistic only.
  const attempt = session
    ? (afterConflict: boolean) => attemptInSession(one, deps.pool!, session, afterConflict)
    : transactional
      ? (afterConflict: boolean) => inTransaction(deps.pool!, async (tx) => attemptOnce(one, tx, await takeLock(tx, lock), afterConflict))
      : (afterConflict: boolean) => attemptOnce(one, undefined, [], afterConflict);
  return retryOnConflict(stream, attempt, {
    maxConflicts,
    // The caller's own expected version is theirs to resolve.
    retries: () => options.expectedVersion === undefined,
  });
}

/** What one command's attempts share. */
interface OneCommand<Command, Event extends DomainEvent, State> {
  deps: CommandHandlingDeps;
  stream: string;
  decider: Decider<Command, Event, State>;
  command: Command;
  options: HandleCommandOptions<Event, State>;
  load: (context: LoadContext) => Promise<Loaded<State>>;
}

/** Load, decide, append (in `tx` when there is one, with the rows alongside); a lost race is thrown for retryOnConflict. */
async function attemptOnce<Command, Event extends DomainEvent, State>(
  { deps, stream, decider, command, options, load }: OneCommand<Command, Event, State>,
  tx: pg.ClientBase | undefined,
  lockedRows: readonly Record<string, unknown>[],
  afterConflict: boolean,
): Promise<CommandOutcome<Event, State>> {
  const loaded = await load({ stream, tx, lockedRows, afterConflict });
  const decided = decideOn(stream, decider, command, loaded, options);
  if (decided.length === 0) return noChange(loaded);
  const events = toNewEvents(deps, decided, options);
  const result = tx ? await deps.store.appendInTransaction(tx, stream, events, expectedOf(loaded)) : await deps.store.append(stream, events, expectedOf(loaded));
  // Every event was stored already (a retry of a committed command): the stream says where it stands.
  if (result.appended === 0) return repeated(await load({ stream, tx: undefined, lockedRows: [], afterConflict: true }), loaded, decided);
  const outcome = applied(decider, loaded, decided, result.appended);
  if (tx) await options.alongside?.(tx, outcome);
  return outcome;
}

/**
 * attemptOnce under a session lock, on a connection of its own and with no transaction open
 * between statements: lock and load, decide, then either release the lock (nothing decided)
 * or append with the rows alongside in one statement that hands the lock over to its own
 * transaction (so it is held until that commit). Any error while the lock may be held
 * releases it; a connection that cannot is destroyed, never pooled with a lock.
 */
async function attemptInSession<Command, Event extends DomainEvent, State>(
  { deps, stream, decider, command, options, load }: OneCommand<Command, Event, State>,
  pool: pg.Pool,
  lock: SessionLock,
  afterConflict: boolean,
): Promise<CommandOutcome<Event, State>> {
  const client = await pool.connect();
  let held = false;
  let broken: Error | undefined;
  try {
    held = true;
    if (!lock.takenByLoad) await takeSessionLock(client, lock.key);
    const loaded = await load({ stream, tx: undefined, lockedRows: [], afterConflict, session: { client, lockKey: lock.takenByLoad ? lock.key : undefined } });
    const decided = decideOn(stream, decider, command, loaded, options);
    if (decided.length === 0) {
      await releaseSessionLock(client, lock.key);
      held = false;
      return noChange(loaded);
    }
    const events = toNewEvents(deps, decided, options);
    // The outcome when the append writes: every event is new then.
    const written = applied(decider, loaded, decided, events.length);
    const alongside = options.alongsideStatement?.(written);
    const [result] = await deps.store.appendManyWith(client, [{ stream, events, expected: expectedOf(loaded) }], {
      ctes: (param) => alongside?.ctes(param) ?? '',
      select: (param) => {
        const check = alongside?.select?.(param);
        const handOver = handOverSessionLockSql(param(lock.key));
        // The caller's check first: when it raises, the whole statement is undone and the lock still held.
        return check ? `row(${check}, ${handOver})` : handOver;
      },
    });
    // Committed, and the lock with it.
    held = false;
    if (result!.appended === 0) return repeated(await load({ stream, tx: undefined, lockedRows: [], afterConflict: true }), loaded, decided);
    return written;
  } catch (error) {
    // The lock may be held still (a conflict the append reported was committed with the hand-over, but
    // a failed statement, or a refusal before it, leaves it held): release whatever the session holds.
    if (held) await releaseSessionLocks(client).catch((releaseError: Error) => (broken = releaseError));
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * Runs `work` in a transaction on a pooled connection: commit when it returns, roll back
 * when it throws. A connection that cannot even roll back is discarded, not returned to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
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

function decideOn<Command, Event extends DomainEvent, State>(
  stream: string,
  decider: Decider<Command, Event, State>,
  command: Command,
  loaded: Loaded<State>,
  options: HandleCommandOptions<Event, State>,
): readonly Event[] {
  const expected = options.expectedVersion;
  if (expected !== undefined && (expected === 'no_stream' ? loaded.version !== -1 : loaded.version !== expected)) {
    throw new ConcurrencyError(stream, expected, loaded.version === -1 ? undefined : loaded.version);
  }
  return decider.decide(command, loaded.state);
}

export function toNewEvents(deps: CommandHandlingDeps, events: readonly DomainEvent[], options: { metadata?: Record<string, unknown> }): NewEvent[] {
  const newId = deps.newId ?? randomUUID;
  return events.map((e) => ({
    id: e.id ?? newId(),
    type: e.type,
    data: e.data,
    metadata: e.metadata ? { ...options.metadata, ...e.metadata } : (options.metadata ?? {}),
  }));
}

export const expectedOf = (loaded: Loaded<unknown>) => (loaded.version === -1 ? ('no_stream' as const) : loaded.version);

const noChange = <Event, State>(loaded: Loaded<State>): CommandOutcome<Event, State> => ({ state: loaded.state, before: loaded.state, events: [], version: loaded.version, appended: 0 });

function repeated<Event, State>(now: Loaded<State>, before: Loaded<State>, events: readonly Event[]): CommandOutcome<Event, State> {
  return { state: now.state, before: before.state, events, version: now.version, appended: 0 };
}

function applied<Command, Event extends DomainEvent, State>(decider: Decider<Command, Event, State>, loaded: Loaded<State>, events: readonly Event[], appended: number): CommandOutcome<Event, State> {
  return { state: foldEvents(decider, events, loaded.state), before: loaded.state, events, version: loaded.version + events.length, appended };
}
