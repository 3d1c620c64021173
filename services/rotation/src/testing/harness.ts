/**
 * Runs rotation service instances in-process against the test run's PostgreSQL and NATS:
 * a fresh database and namespace per test file, each instance with its own pool and NATS
 * connection (as separate processes would have), plus a client connection for requests.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import pg from 'pg';
import { pino } from 'pino';
import { rotationCommands, subjectsFor, type CommandReply, type Subjects } from '@fairlead/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { connectNats, drainAndClose, request } from '@fairlead/messaging';
import { createTestDatabase, testNamespace, testNatsUrl, type TestDatabase } from '@fairlead/testing';
import { startRotationService, type RotationConfig, type RotationService } from '../service';

export interface Instance {
  service: RotationService;
  pool: pg.Pool;
  /** Connections handed out by this instance's pool since it started serving. */
  acquired(): number;
}

export interface RotationHarness {
  db: TestDatabase;
  store: PostgresEventStore;
  client: NatsConnection;
  subjects: Subjects;
  start(config?: RotationConfig): Promise<Instance>;
  command<V extends keyof typeof rotationCommands>(verb: V, body: unknown): Promise<CommandReply<'rotation', V>>;
  close(): Promise<void>;
}

export async function startRotationHarness(label: string): Promise<RotationHarness> {
  const db = await createTestDatabase(label);
  const store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  const subjects = subjectsFor(testNamespace(label));
  const client = await connectNats({ servers: testNatsUrl(), name: `${label}-client` });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const cleanups: (() => Promise<void>)[] = [];

  return {
    db,
    store,
    client,
    subjects,
    start: async (config) => {
      const pool = new pg.Pool({ connectionString: db.url, max: 10 });
      const instanceStore = createPostgresEventStore({ pool });
      const nc = await connectNats({ servers: testNatsUrl(), name: label });
      const service = await startRotationService({ pool, store: instanceStore, nc, subjects, logger, ...(config ? { config } : {}) });
      // The server has the command subscriptions once this round trip returns: the first request finds a responder.
      await nc.flush();
      let acquired = 0;
      pool.on('acquire', () => acquired++);
      cleanups.push(async () => {
        await service.stop();
        await drainAndClose(nc);
        await instanceStore.close();
        await pool.end();
      });
      return { service, pool, acquired: () => acquired };
    },
    command: (verb, body) =>
      request(client, subjects.command('rotation', verb), body, { responseSchema: rotationCommands[verb].reply as never, timeoutMs: 10_000 }),
    close: async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
      await drainAndClose(client);
      await store.close();
      await db.drop();
    },
  };
}
