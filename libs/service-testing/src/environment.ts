/**
 * The one way a service's integration tests open what they run against: a database of
 * their own with the event store migrated, a NATS connection, a namespace of their own
 * (its subjects and JetStream streams), a quiet logger — and one close() that takes it
 * all down again. Each service's harness builds its own helpers on top.
 *
 * It sits above libs/testing (the servers of the test run) and beside the libraries it
 * uses (event store, messaging): libs/testing stays below them, whose own tests use it.
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { subjectsFor, type Subjects } from '@fairlead/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { connectNats, declareStreams, drainAndClose, fairleadStreams } from '@fairlead/messaging';
import { createTestDatabase, testNamespace, testNatsUrl, type TestDatabase } from '@fairlead/testing';

export interface TestEnvironmentOptions {
  /** Declare the Fairlead JetStream streams in the namespace now (default false: the service under test declares them). */
  declareStreams?: boolean;
  /** The NATS connection's name (default: the label). */
  connectionName?: string;
}

/** What a service instance of its own has, as a separate process would: its pool, store and NATS connection. */
export interface ServiceInstanceParts {
  pool: pg.Pool;
  store: PostgresEventStore;
  nc: NatsConnection;
}

export interface TestEnvironment {
  label: string;
  db: TestDatabase;
  /** The event store on the test's database (migrated). */
  store: PostgresEventStore;
  nc: NatsConnection;
  jsm: JetStreamManager;
  subjects: Subjects;
  logger: Logger;
  natsUrl: string;
  /** A pool, store and NATS connection of their own for one more service instance; closed by close(). */
  openInstance(options?: { poolSize?: number }): Promise<ServiceInstanceParts>;
  /**
   * Starts one more service instance on parts of its own (openInstance), waits until the
   * NATS server has its subscriptions (a test's first request then finds its responder),
   * and stops it at close().
   */
  startInstance<S extends { stop(): Promise<void> }>(start: (parts: ServiceInstanceParts) => Promise<S>, options?: { poolSize?: number }): Promise<ServiceInstanceParts & { service: S }>;
  /** Runs `cleanup` at close(), before the environment's own parts; the last registered runs first. */
  onClose(cleanup: () => Promise<void>): void;
  /** The cleanups, then the namespace's streams, the NATS connection, the store, and the database. */
  close(): Promise<void>;
}

export async function openTestEnvironment(label: string, options: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
  const db = await createTestDatabase(label);
  // Dropping the database at the end ends idle connections; that is not a test failure.
  db.pool.on('error', () => undefined);
  const store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  const natsUrl = testNatsUrl();
  const nc = await connectNats({ servers: natsUrl, name: options.connectionName ?? label });
  const jsm = await jetstreamManager(nc);
  const subjects = subjectsFor(testNamespace(label));
  if (options.declareStreams) await declareStreams(jsm, fairleadStreams(subjects));
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const cleanups: (() => Promise<void>)[] = [];

  const openInstance: TestEnvironment['openInstance'] = async ({ poolSize = 10 } = {}) => {
    const pool = new pg.Pool({ connectionString: db.url, max: poolSize });
    const instanceStore = createPostgresEventStore({ pool });
    const instanceNc = await connectNats({ servers: natsUrl, name: label });
    cleanups.push(async () => {
      await drainAndClose(instanceNc);
      await instanceStore.close();
      await pool.end();
    });
    return { pool, store: instanceStore, nc: instanceNc };
  };

  return {
    label,
    db,
    store,
    nc,
    jsm,
    subjects,
    logger,
    natsUrl,
    openInstance,
    startInstance: async (start, options) => {
      const parts = await openInstance(options);
      const service = await start(parts);
      cleanups.push(() => service.stop());
      // The server has the instance's subscriptions once it answers a PING sent after them.
      await parts.nc.flush();
      return { ...parts, service };
    },
    onClose: (cleanup) => void cleanups.push(cleanup),
    close: async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
      for (const name of Object.values(subjects.streams)) await jsm.streams.delete(name).catch(() => undefined);
      await drainAndClose(nc);
      await store.close();
      await db.drop();
    },
  };
}
