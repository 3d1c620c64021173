/**
 * Runs rotation service instances in-process against the test run's PostgreSQL and NATS:
 * a fresh database and namespace per test file, each instance with its own pool and NATS
 * connection (as separate processes would have), plus a client connection for requests.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type pg from 'pg';
import { rotationCommands, type CommandReply, type Subjects } from '@fairlead/contracts';
import type { PostgresEventStore } from '@fairlead/event-store';
import { request } from '@fairlead/messaging';
import { openTestEnvironment } from '@fairlead/service-testing';
import type { TestDatabase } from '@fairlead/testing';
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
  const env = await openTestEnvironment(label, { connectionName: `${label}-client` });
  const { db, store, subjects, logger, nc: client } = env;

  return {
    db,
    store,
    client,
    subjects,
    start: async (config) => {
      const { service, pool } = await env.startInstance((parts) => startRotationService({ ...parts, subjects, logger, ...(config ? { config } : {}) }));
      let acquired = 0;
      pool.on('acquire', () => acquired++);
      return { service, pool, acquired: () => acquired };
    },
    command: (verb, body) =>
      request(client, subjects.command('rotation', verb), body, { responseSchema: rotationCommands[verb].reply as never, timeoutMs: 10_000 }),
    close: () => env.close(),
  };
}
