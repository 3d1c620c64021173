/**
 * The event store contract every adapter implements. PostgreSQL is the event store; another
 * store would be a second adapter of this interface.
 * One contract test suite (src/contract, exported as `@fairlead/event-store/contract`) runs against each adapter.
 */

/** An event as the caller hands it to append(). */
export interface NewEvent<Type extends string = string, Data = unknown> {
  /** Unique id; appending an event whose id is already stored is a no-op (idempotent append). */
  id: string;
  type: Type;
  data: Data;
  /** Correlation/causation ids, trace context, actor, schema version. */
  metadata?: Record<string, unknown>;
}

/** An event as it was stored. */
export interface StoredEvent<Type extends string = string, Data = unknown> {
  id: string;
  stream: string;
  type: Type;
  data: Data;
  metadata: Record<string, unknown>;
  /** Position within its stream, starting at 0. */
  streamVersion: number;
  /** Position in the global log; with transactionId it forms the global checkpoint. */
  globalPosition: bigint;
  /** Id of the writing transaction (PostgreSQL xid8); 0n for adapters without one. */
  transactionId: bigint;
  createdAt: Date;
}

/**
 * Where a reader of the global log stands. Ordered by (transactionId, globalPosition);
 * a reader resumes strictly after it. `START` reads from the beginning.
 */
export interface Checkpoint {
  transactionId: bigint;
  globalPosition: bigint;
}

export const START: Checkpoint = Object.freeze({ transactionId: 0n, globalPosition: 0n });

/**
 * - a number: the stream's current version must be exactly this (the version of its last event);
 * - 'no_stream': the stream must not exist;
 * - 'any': no check.
 */
export type ExpectedVersion = number | 'no_stream' | 'any';

export interface AppendResult {
  /** The stream's version after the append (the version of its last event). */
  nextExpectedVersion: number;
  /** Global position of the last event written by this call (or already stored, when idempotent). */
  lastGlobalPosition: bigint;
  /** Events of this call that were new (not already stored under the same id). */
  appended: number;
}

export interface ReadAllBatch {
  events: StoredEvent[];
  /**
   * Resume point after this batch: after the last event scanned, which with a category
   * filter may lie beyond the last event returned (the input checkpoint when nothing was scanned).
   */
  checkpoint: Checkpoint;
}

export interface ReadAllOptions {
  /** Return only events of these stream categories; the batch size still counts every event scanned. */
  categories?: readonly string[];
}

export interface HeadOptions extends ReadAllOptions {
  /**
   * Also count events committed but not yet readable (held back behind an older transaction
   * still running): the head of everything committed now, which a reader reaches once
   * that transaction ends. For "has everything committed so far been applied?".
   */
  includeHeldBack?: boolean;
}

export interface Subscription {
  /** Stops the subscription; resolves when its loop has ended. */
  stop(): Promise<void>;
  /**
   * Reads again at once, without waiting for a notification, a poll or minReadIntervalMs:
   * for a caller waiting for an event it knows is stored (read-your-writes), which must not
   * pay the spacing that keeps a busy subscriber's reads few.
   */
  readNow(): void;
  /** Resolves when the subscription ends; rejects when its handler or reader failed. */
  readonly done: Promise<void>;
}

export interface SubscribeOptions {
  /** Resume strictly after this checkpoint. */
  from: Checkpoint;
  /** Called for each event in global order, one at a time. An error stops the subscription. */
  handler?: (event: StoredEvent) => Promise<void> | void;
  /**
   * Instead of `handler`: called with each page read (its events in global order, never
   * empty), so the subscriber can apply a page in one transaction. An error stops the
   * subscription. Exactly one of handler and pageHandler is given.
   */
  pageHandler?: (events: readonly StoredEvent[]) => Promise<void> | void;
  /** Events read per query while catching up. */
  batchSize?: number;
  /** Restrict delivery to stream categories (the part of the stream name before the first '-'). */
  categories?: readonly string[];
  /**
   * Least time between the starts of two reads once caught up (default 0): notifications
   * that come sooner are answered by one read, at most this much later. Under a steady
   * stream of commits a subscriber then reads at most 1000/minReadIntervalMs times a second
   * instead of once per commit.
   */
  minReadIntervalMs?: number;
  /**
   * Categories whose commits are read at once, without waiting for minReadIntervalMs (as readNow()):
   * with a long spacing for a category committed on every lead, the rare commits of the others still
   * arrive within milliseconds. A notification that names no category is not eager.
   */
  eagerCategories?: readonly string[];
}

export interface EventStore {
  append(stream: string, events: readonly NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult>;
  /** Events of one stream from a version (inclusive), in order. Empty when the stream does not exist. */
  readStream(stream: string, fromVersion?: number, maxCount?: number): Promise<StoredEvent[]>;
  /** Current version of a stream, or undefined when it does not exist. */
  streamVersion(stream: string): Promise<number | undefined>;
  /**
   * Next batch of the global log after a checkpoint, without loss: only events of
   * transactions that can no longer commit before them are returned.
   */
  readAll(from: Checkpoint, batchSize: number, options?: ReadAllOptions): Promise<ReadAllBatch>;
  /**
   * The checkpoint of the newest event readAll can return now (of the given categories),
   * or undefined when there is none: cheap, for "am I caught up?" without reading the log.
   */
  headCheckpoint(options?: HeadOptions): Promise<Checkpoint | undefined>;
  /** Catches up from a checkpoint and then follows live appends. */
  subscribe(options: SubscribeOptions): Subscription;
  close(): Promise<void>;
}
