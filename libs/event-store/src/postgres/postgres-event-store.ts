/**
 * The PostgreSQL adapter of EventStore: wires the pool, the schema, the LISTEN
 * connection, group commit and the subscriptions together. The SQL lives in schema.ts,
 * append-sql.ts, append.ts and read.ts.
 */
import pg from 'pg';
import { z } from 'zod';
import { assertIdentifier } from '../identifiers';
import { runMigrations, type RunMigrationsResult } from '../migrations';
import type { AppendResult, Checkpoint, EventStore, ExpectedVersion, NewEvent, ReadAllBatch, StoredEvent, SubscribeOptions, Subscription } from '../types';
import { appendBatch, appendMany, appendManyWith, appendOne, type AppendStatement } from './append';
import { validateAppend } from '../append-input';
import { DEFAULT_MAX_EVENT_BYTES, encodeEvents } from '../encode-events';
import { withAppendMetadata } from '../append-metadata';
import { GroupCommitter } from './group-commit';
import { CommitNotifier } from './notifier';
import { NotificationListener, type ListenConnection } from './listener';
import { readGlobalPage, readHeadCheckpoint, readStream, readStreams, streamVersion } from './read';
import { eventStoreMigrations, MIGRATIONS_TABLE, notifyChannel } from './schema';
import { startSubscription } from './subscribe';

export interface PostgresEventStoreOptions {
  /** An existing pool; the store borrows it and does not end it on close(). */
  pool?: pg.Pool;
  /** Or a connection string; the store then owns its pool. */
  connectionString?: string;
  /** Size of the owned pool (connectionString only). */
  maxConnections?: number;
  /** Schema of the store's tables and functions. */
  schema?: string;
  /** Catch-up poll of a caught-up subscription when no notification arrives (a safety net under LISTEN). */
  pollIntervalMs?: number;
  /**
   * The poll doubles while it finds nothing, up to this (default 10 s, or pollIntervalMs when
   * that is longer): an idle store is not read every second by every subscription.
   */
  maxPollIntervalMs?: number;
  /** Under a steady stream of appends, the store NOTIFYs subscribers at most this often. */
  notifyIntervalMs?: number;
  /** First re-poll delay while committed events are held back by an older open transaction; doubles up to maxHeldBackPollMs. */
  heldBackPollMs?: number;
  /** Longest re-poll delay while events are held back. */
  maxHeldBackPollMs?: number;
  /**
   * Group commit: append() calls made while `maxInFlight` batches are already running are
   * sent together as the next batch (one round trip, one transaction); each keeps its own
   * expected-version check and outcome. `false` sends every append on its own.
   */
  groupCommit?: false | { maxInFlight?: number; maxEvents?: number };
  /** Called with errors the store recovers from by itself (LISTEN reconnects, retried reads). */
  onError?: (error: Error) => void;
  /**
   * Largest event accepted: UTF-8 bytes of its data and metadata as JSON (default
   * DEFAULT_MAX_EVENT_BYTES, 960 KiB). A larger one fails its append with EventTooLargeError.
   * Keep it at least 64 KiB under the bus's max_payload, so the relay can publish every event.
   */
  maxEventBytes?: number;
}

export interface PostgresEventStore extends EventStore {
  /**
   * The schema holding the tables (a checked identifier, PostgresEventStoreOptions.schema):
   * for code that reads the log with SQL of its own, e.g. `<schema>.events` joined by event_id.
   */
  readonly schema: string;
  /** The largest event it accepts, in bytes (see PostgresEventStoreOptions.maxEventBytes). */
  readonly maxEventBytes: number;
  /** Creates or upgrades the tables and functions (versioned, safe to call from many processes at once). */
  migrate(): Promise<RunMigrationsResult>;
  /**
   * Appends inside the caller's open transaction on `client` (READ COMMITTED), so the
   * events commit or roll back with the caller's other writes. A conflict throws
   * ConcurrencyError without aborting the transaction.
   */
  appendInTransaction(client: pg.ClientBase, stream: string, events: readonly NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult>;
  /**
   * Several streams' appends in the caller's open transaction, in one round trip, each with
   * its own expected version. Results are in request order. The first failed append is
   * thrown (ConcurrencyError / EventIdConflictError) — the others may have been written in
   * the transaction already, so the caller then rolls back.
   */
  appendManyInTransaction(client: pg.ClientBase, appends: readonly StreamAppend[]): Promise<AppendResult[]>;
  /**
   * appendManyInTransaction plus the caller's own SQL (its side tables) in the same
   * statement: one round trip, and on a connection outside a transaction one atomic
   * statement with no BEGIN / COMMIT. The caller's SQL sees each append's outcome
   * (AppendStatement). Throws like appendManyInTransaction; an append the store cannot hold
   * throws before anything is sent.
   */
  appendManyWith(client: pg.ClientBase, appends: readonly StreamAppend[], statement: AppendStatement): Promise<AppendResult[]>;
  /** Several streams at once, in one query: each stream's events in version order (absent streams map to []). */
  readStreams(streams: readonly string[]): Promise<Map<string, StoredEvent[]>>;
}

/** One stream's part of appendManyInTransaction. */
export interface StreamAppend {
  stream: string;
  events: readonly NewEvent[];
  expected: ExpectedVersion;
}

const optionsSchema = z
  .object({
    // Structural, so a pool from another copy of the pg package is accepted too.
    pool: z
      .custom<pg.Pool>((v) => typeof v === 'object' && v !== null && typeof (v as pg.Pool).connect === 'function' && typeof (v as pg.Pool).query === 'function')
      .optional(),
    connectionString: z.string().min(1).optional(),
    maxConnections: z.number().int().positive().default(10),
    schema: z.string().default('eventstore'),
    pollIntervalMs: z.number().int().positive().default(1_000),
    maxPollIntervalMs: z.number().int().positive().optional(),
    notifyIntervalMs: z.number().int().min(0).default(5),
    heldBackPollMs: z.number().int().positive().default(20),
    maxHeldBackPollMs: z.number().int().positive().default(250),
    groupCommit: z
      .union([
        z.literal(false),
        z.object({ maxInFlight: z.number().int().positive().default(2), maxEvents: z.number().int().positive().default(1_000) }),
      ])
      .default({ maxInFlight: 2, maxEvents: 1_000 }),
    onError: z.custom<(error: Error) => void>((v) => typeof v === 'function').optional(),
    maxEventBytes: z.number().int().min(1_024).default(DEFAULT_MAX_EVENT_BYTES),
  })
  .refine((o) => (o.pool === undefined) !== (o.connectionString === undefined), 'give exactly one of pool or connectionString');

/**
 * Longest safety-net poll of an idle subscription. With LISTEN up, events are read on their
 * NOTIFY within milliseconds whatever this is; it bounds only how late an event whose NOTIFY
 * was lost (sent on a connection that failed after its commit) is read once the store is quiet.
 */
const DEFAULT_MAX_POLL_INTERVAL_MS = 10_000;

export function createPostgresEventStore(input: PostgresEventStoreOptions): PostgresEventStore {
  const options = optionsSchema.parse(input);
  const schema = assertIdentifier(options.schema, 'schema');
  const ownsPool = options.pool === undefined;
  const pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections });
  if (ownsPool) pool.on('error', (error) => options.onError?.(error));

  const connectListener = async (): Promise<ListenConnection> => {
    let disposed = false;
    if (options.connectionString !== undefined) {
      const client = new pg.Client({ connectionString: options.connectionString, keepAlive: true });
      await client.connect().catch(async (error: unknown) => {
        await client.end().catch(() => undefined);
        throw error;
      });
      return {
        client,
        dispose: async () => {
          if (disposed) return;
          disposed = true;
          await client.end();
        },
      };
    }
    const client = await pool.connect();
    return {
      client,
      dispose: async (error) => {
        if (disposed) return;
        disposed = true;
        // Destroy rather than return it: a pooled connection must not keep LISTENing.
        client.release(error ?? true);
      },
    };
  };
  const listener = new NotificationListener({ connect: connectListener, channel: notifyChannel(schema), onError: options.onError });
  const notifier = new CommitNotifier(pool, notifyChannel(schema), options.notifyIntervalMs, options.onError);
  const committer =
    options.groupCommit === false
      ? undefined
      : new GroupCommitter(
          // An idle notifier lets this batch carry the NOTIFY itself (notifier.ts): one statement and commit fewer.
          (requests) =>
            notifier.appending(
              (notify) => appendBatch(pool, schema, requests, notify, options.maxEventBytes),
              (outcomes) => requests.filter((_, i) => outcomes[i]?.ok).map((r) => r.stream),
            ),
          options.groupCommit,
        );
  const subscriptions = new Set<Subscription>();
  let closed = false;

  return {
    schema,
    maxEventBytes: options.maxEventBytes,
    migrate: () => runMigrations(pool, { schema, table: MIGRATIONS_TABLE, migrations: eventStoreMigrations(schema) }),
    append: async (stream, input, expected) => {
      const events = withAppendMetadata(input);
      if (committer) {
        validateAppend(stream, events, expected);
        // Refused here, before it waits for a batch: an event the store cannot hold fails alone.
        return committer.append({ stream, events, expected, encoded: encodeEvents(stream, events, options.maxEventBytes) });
      }
      return notifier.appending(
        (notify) => appendOne(pool, schema, stream, events, expected, notify, options.maxEventBytes),
        (result) => (result.appended > 0 ? [stream] : []),
      );
    },
    // The caller commits later; the NOTIFY must travel with that commit.
    appendInTransaction: (client, stream, events, expected) => appendOne(client, schema, stream, withAppendMetadata(events), expected, true, options.maxEventBytes),
    appendManyInTransaction: (client, appends) => appendMany(client, schema, appends, options.maxEventBytes),
    appendManyWith: (client, appends, statement) => appendManyWith(client, schema, appends, statement, options.maxEventBytes),
    readStream: (stream, fromVersion, maxCount) => readStream(pool, schema, stream, fromVersion, maxCount),
    readStreams: (names) => readStreams(pool, schema, names),
    streamVersion: (stream) => streamVersion(pool, schema, stream),
    readAll: async (from: Checkpoint, batchSize: number, readOptions?: { categories?: readonly string[] }): Promise<ReadAllBatch> => {
      const page = await readGlobalPage(pool, schema, from, batchSize, readOptions?.categories);
      return { events: page.events, checkpoint: page.checkpoint };
    },
    headCheckpoint: (headOptions) => readHeadCheckpoint(pool, schema, headOptions?.categories, headOptions?.includeHeldBack ?? false),
    subscribe: (subscribeOptions: SubscribeOptions): Subscription => {
      if (closed) throw new Error('event store is closed');
      const subscription = startSubscription(
        {
          readPage: (from, batchSize, categories) => readGlobalPage(pool, schema, from, batchSize, categories),
          onWake: (wake) => listener.register(wake),
          pollIntervalMs: options.pollIntervalMs,
          maxPollIntervalMs: Math.max(options.pollIntervalMs, options.maxPollIntervalMs ?? DEFAULT_MAX_POLL_INTERVAL_MS),
          heldBackPollMs: options.heldBackPollMs,
          maxHeldBackPollMs: options.maxHeldBackPollMs,
          onReadError: options.onError,
        },
        subscribeOptions,
      );
      subscriptions.add(subscription);
      void subscription.done.finally(() => subscriptions.delete(subscription)).catch(() => undefined);
      return subscription;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((s) => s.stop()));
      await listener.stop();
      await notifier.idle();
      if (ownsPool) await pool.end();
    },
  };
}
