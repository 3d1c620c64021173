/**
 * The services whose HTTP surface the security suite walks, each as its own process on a
 * database and NATS namespace of this test file alone, with the test credentials (no
 * service falls back to the development files under .data).
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { subjectsFor, type Subjects } from '@fairlead/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { connectNats, declareStreams, fairleadStreams } from '@fairlead/messaging';
import { createTestDatabase, startServiceProcesses, testNamespace, testNatsUrl, type ServiceProcess, type TestDatabase } from '@fairlead/testing';
import { TEST_CREDENTIALS_ENV } from '../support/system';

export interface HttpSystem {
  db: TestDatabase;
  store: PostgresEventStore;
  nc: NatsConnection;
  subjects: Subjects;
  /** `http://127.0.0.1:<port>` of each service. */
  bases: Record<string, string>;
  processes: Record<string, ServiceProcess>;
  close(): Promise<void>;
}

export interface HttpSystemOptions {
  /** The database URL the services get (default: the test database's; a proxy in front of it to stop PostgreSQL). */
  databaseUrl?: (testDatabaseUrl: string) => string | Promise<string>;
  env?: Record<string, Record<string, string>>;
}

export async function startHttpSystem(label: string, services: readonly string[], options: HttpSystemOptions = {}): Promise<HttpSystem> {
  const db = await createTestDatabase(label);
  const store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  const nc = await connectNats({ servers: testNatsUrl(), name: `${label}-test` });
  const jsm = await jetstreamManager(nc);
  const subjects = subjectsFor(testNamespace(label));
  await declareStreams(jsm, fairleadStreams(subjects));
  const common = {
    DATABASE_URL: options.databaseUrl ? await options.databaseUrl(db.url) : db.url,
    NATS_URL: testNatsUrl(),
    NATS_NAMESPACE: subjects.namespace,
    RELAY_LOCK_KEY: String(Math.floor(Math.random() * 1e12)),
    ...TEST_CREDENTIALS_ENV,
  };
  // A loaded machine starts several tsx processes slowly: wait longer than the default.
  const started = await startServiceProcesses(services.map((service) => ({ service, env: { ...common, ...options.env?.[service] }, readyTimeoutMs: 180_000 })));
  const processes = Object.fromEntries(services.map((name, i) => [name, started[i]!]));
  return {
    db,
    store,
    nc,
    subjects,
    processes,
    bases: Object.fromEntries(Object.entries(processes).map(([name, p]) => [name, `http://127.0.0.1:${p.port}`])),
    close: async () => {
      await Promise.allSettled(started.map((p) => p.stop()));
      for (const name of Object.values(subjects.streams)) await jsm.streams.delete(name).catch(() => undefined);
      await nc.close();
      await store.close();
      await db.drop();
    },
  };
}
