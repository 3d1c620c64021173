/**
 * handleCommand for a decision that spans several streams of one kind at once (billing's
 * charge batch: one request's charges over many wallets). The same loop — take the lock,
 * load every stream's state, decide once over all of them, append every stream's events in
 * one round trip (each checked against the version it was decided on), write the rows
 * alongside, commit; re-read and re-decide after a lost race — with the decision's own
 * value kept for the caller (a batch answers per item, which the events alone do not say).
 *
 * Runs in a transaction (the streams commit together), so `deps.pool` is required. With
 * `inProcess`, this process's commands queue on every stream's key, taken in sorted order
 * (as a single-stream command takes its one key), so two batches never wait on each other
 * in a cycle.
 *
 * With `oneStatement`, a command is first tried in two autocommit statements on one
 * connection instead: a read of every state from one snapshot (no lock), the decision, and
 * one statement that appends and writes everything else (the store's appendManyWith) and is
 * refused whole when a state decided on has moved since; a refused command then runs the
 * transactional way (lock, load, decide, append, rows, commit), as without the option.
 */
import type pg from 'pg';
import type { AppendStatement, StoredEvent, StreamAppend } from '@fairlead/event-store';
import type { Decider, DomainEvent } from './decider';
import { foldEvents } from './decider';
import { DEFAULT_MAX_CONFLICTS, retryOnConflict } from './retry';
import { expectedOf, inTransaction, toNewEvents, transactionSlots, type CommandHandlingDeps, type Loaded } from './handle-command';
import { noLock, takeLock, type KeyedMutex, type LockStrategy, type Semaphore } from './locks';

/** A decision over several streams: each stream's events (a stream left out, or with none, is only read) and whatever the caller answers from. */
export interface StreamsDecision<Event> {
  events: ReadonlyMap<string, readonly Event[]>;
}

export interface StreamsLoadContext {
  streams: readonly string[];
  tx: pg.ClientBase;
  /** Rows a row lock returned (empty for other locks). */
  lockedRows: readonly Record<string, unknown>[];
  /** True when an earlier attempt lost a race: snapshots may be out of step with their streams. */
  afterConflict: boolean;
}

export interface StreamsOutcome<State, Decision> {
  /** What `decide` answered on the states it was taken on. */
  decision: Decision;
  /** The streams as loaded (a stream the loader left out is absent: it does not exist for the decision). */
  before: ReadonlyMap<string, Loaded<State>>;
  /** Each loaded stream after its decided events, with its new version. */
  after: ReadonlyMap<string, Loaded<State>>;
  /** The streams that got events, in the order given. */
  written: readonly string[];
  /** Events new to the store over every stream (a stream's idempotent repeat counts 0). */
  appended: number;
}

export interface HandleStreamsOptions<Event extends DomainEvent, State, Decision> {
  /** A stored event as the decider's event, or undefined to skip it (default: its type and data). */
  decode?: (event: StoredEvent) => Event | undefined;
  /** Reads the states another way than folding the streams (snapshot rows). Streams it leaves out do not exist for the decision. */
  load?: (context: StreamsLoadContext) => Promise<ReadonlyMap<string, Loaded<State>>>;
  /** Re-reads after a lost race before TooManyConflictsError (default 5; 0: never retry). */
  maxConflicts?: number;
  /** Metadata of every appended event (an event's own metadata is merged over it). */
  metadata?: Record<string, unknown>;
  /** How the command waits its turn in the database (default: optimistic only). */
  lock?: LockStrategy;
  /** Queue this process's commands on each stream's key (sorted); `slots` bounds the transactions in flight. */
  inProcess?: { mutex: KeyedMutex; slots?: Semaphore };
  /** The service's own rows, in the append's transaction after it — only when some stream got events. */
  alongside?: (tx: pg.ClientBase, outcome: StreamsOutcome<State, Decision>) => Promise<void>;
  /** Try the command in two statements without a transaction first (see the module comment and OneStatementPath). */
  oneStatement?: OneStatementPath<State, Decision>;
}

/**
 * The two-statement path of a command (a read, then one statement that writes it all).
 * What makes it safe is the caller's: `statement` must raise SQLSTATE `refusal` — undoing
 * the whole statement, events included — unless every append wrote (`appended.r_outcomes`
 * all 'ok') and every state the decision was taken on, written or only read, still stands
 * (e.g. each snapshot row still at the version read, checked under a row lock that does not
 * wait). A decision without events is answered from the read as it is, with nothing written:
 * the read must be one a repeat may be answered from.
 */
export interface OneStatementPath<State, Decision> {
  /** Every stream's state from one statement on `db` (autocommit, no lock); a stream left out does not exist for the decision. */
  read: (db: pg.ClientBase, streams: readonly string[]) => Promise<ReadonlyMap<string, Loaded<State>>>;
  /**
   * The caller's part of the statement that appends the outcome's events (appendManyWith:
   * its own rows, and the check that refuses) — or undefined to take the transactional path
   * for this outcome (one the statement cannot write).
   */
  statement: (outcome: StreamsOutcome<State, Decision>) => AppendStatement | undefined;
  /** SQLSTATE of the statement's refusal. */
  refusal: string;
}

/** Handles one command over several streams; see the module comment. Throws `decide`'s refusal as it is. */
export async function handleCommandOnStreams<Event extends DomainEvent, State, Decision extends StreamsDecision<Event>>(
  deps: CommandHandlingDeps,
  streams: readonly string[],
  aggregate: Pick<Decider<never, Event, State>, 'evolve' | 'initialState'>,
  decide: (states: ReadonlyMap<string, Loaded<State>>) => Decision,
  options: HandleStreamsOptions<Event, State, Decision> = {},
): Promise<StreamsOutcome<State, Decision>> {
  const pool = deps.pool;
  if (!pool) throw new Error('handleCommandOnStreams needs deps.pool: the streams commit in one transaction');
  const unique = [...new Set(streams)];
  const run = () => transactionSlots(pool, options.inProcess?.slots).run(() => handleStreams(deps, pool, unique, aggregate, decide, options));
  const mutex = options.inProcess?.mutex;
  if (!mutex) return run();
  const keys = [...unique].sort();
  const queued = (i: number): Promise<StreamsOutcome<State, Decision>> => (i === keys.length ? run() : mutex.run(keys[i]!, () => queued(i + 1)));
  return queued(0);
}

async function handleStreams<Event extends DomainEvent, State, Decision extends StreamsDecision<Event>>(
  deps: CommandHandlingDeps,
  pool: pg.Pool,
  streams: readonly string[],
  aggregate: Pick<Decider<never, Event, State>, 'evolve' | 'initialState'>,
  decide: (states: ReadonlyMap<string, Loaded<State>>) => Decision,
  options: HandleStreamsOptions<Event, State, Decision>,
): Promise<StreamsOutcome<State, Decision>> {
  if (options.oneStatement) {
    const done = await inOneStatement(deps, pool, streams, aggregate, decide, options, options.oneStatement);
    if (done) return done;
  }
  const load = options.load ?? ((context: StreamsLoadContext) => loadStreams(deps, context.streams, aggregate, options.decode));
  const attempt = (afterConflict: boolean) =>
    inTransaction(pool, async (tx) => {
      const lockedRows = await takeLock(tx, options.lock ?? noLock);
      const before = await load({ streams, tx, lockedRows, afterConflict });
      const { outcome, appends } = decideOn(deps, streams, aggregate, decide, before, options);
      if (appends.length > 0) {
        const results = await deps.store.appendManyInTransaction(tx, appends);
        outcome.appended = results.reduce((sum, r) => sum + r.appended, 0);
        await options.alongside?.(tx, outcome);
      }
      return outcome;
    });
  return retryOnConflict(streams.join(', '), attempt, { maxConflicts: options.maxConflicts ?? DEFAULT_MAX_CONFLICTS });
}

/**
 * The two-statement path: read, decide, and the one statement; undefined when the statement
 * was refused (or `statement` declined the outcome), for the transactional path to decide again.
 */
async function inOneStatement<Event extends DomainEvent, State, Decision extends StreamsDecision<Event>>(
  deps: CommandHandlingDeps,
  pool: pg.Pool,
  streams: readonly string[],
  aggregate: Pick<Decider<never, Event, State>, 'evolve' | 'initialState'>,
  decide: (states: ReadonlyMap<string, Loaded<State>>) => Decision,
  options: HandleStreamsOptions<Event, State, Decision>,
  path: OneStatementPath<State, Decision>,
): Promise<StreamsOutcome<State, Decision> | undefined> {
  // Two statements on one connection, neither in a transaction: no BEGIN / COMMIT, no xid held between them.
  // (A connection broken meanwhile is not pooled again: the pool checks on release.)
  const db = await pool.connect();
  try {
    const before = await path.read(db, streams);
    const { outcome, appends } = decideOn(deps, streams, aggregate, decide, before, options);
    if (appends.length === 0) return outcome;
    const statement = path.statement(outcome);
    if (!statement) return undefined;
    try {
      const results = await deps.store.appendManyWith(db, appends, statement);
      outcome.appended = results.reduce((sum, r) => sum + r.appended, 0);
      return outcome;
    } catch (error) {
      // Undone whole: someone moved a state decided on meanwhile. (A conflict thrown after the
      // statement means it committed without refusing: the caller's check is wrong, and going
      // the other way would write again; it is thrown as it is.)
      if ((error as { code?: unknown }).code === path.refusal) return undefined;
      throw error;
    }
  } finally {
    db.release();
  }
}

/** The decision on the loaded states, the outcome it leads to, and the appends that write it (each against the version decided on). */
function decideOn<Event extends DomainEvent, State, Decision extends StreamsDecision<Event>>(
  deps: CommandHandlingDeps,
  streams: readonly string[],
  aggregate: Pick<Decider<never, Event, State>, 'evolve' | 'initialState'>,
  decide: (states: ReadonlyMap<string, Loaded<State>>) => Decision,
  before: ReadonlyMap<string, Loaded<State>>,
  options: HandleStreamsOptions<Event, State, Decision>,
): { outcome: StreamsOutcome<State, Decision>; appends: StreamAppend[] } {
  const decision = decide(before);
  const written = streams.filter((s) => (decision.events.get(s)?.length ?? 0) > 0);
  const after = new Map(before);
  const appends = written.map((stream) => {
    const loaded = before.get(stream) ?? { state: aggregate.initialState(), version: -1 };
    const events = decision.events.get(stream)!;
    after.set(stream, { state: foldEvents(aggregate, events, loaded.state), version: loaded.version + events.length });
    return { stream, events: toNewEvents(deps, events, options), expected: expectedOf(loaded) };
  });
  return { outcome: { decision, before, after, written, appended: 0 }, appends };
}

/** The streams' states by folding their events, in one read (streams without events are absent). */
async function loadStreams<Event extends DomainEvent, State>(
  deps: CommandHandlingDeps,
  streams: readonly string[],
  aggregate: Pick<Decider<never, Event, State>, 'evolve' | 'initialState'>,
  decode: (event: StoredEvent) => Event | undefined = (e) => ({ type: e.type, data: e.data }) as Event,
): Promise<Map<string, Loaded<State>>> {
  const read = await deps.store.readStreams(streams);
  const loaded = new Map<string, Loaded<State>>();
  for (const [stream, stored] of read) {
    if (stored.length === 0) continue;
    const events = stored.map(decode).filter((e): e is Event => e !== undefined);
    loaded.set(stream, { state: foldEvents(aggregate, events), version: stored.at(-1)!.streamVersion });
  }
  return loaded;
}
