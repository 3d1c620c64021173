/**
 * The wiring every Fairlead service process shares, so that a service's main.ts says only
 * what is its own: open the runtime (logger, tracing, PostgreSQL pool, migrated event
 * store, NATS connection, subjects, metrics registry), start the service, then serve it
 * (HTTP app with health, readiness, metrics, docs; graceful shutdown in a fixed order).
 */
import pg from 'pg';
import type { NatsConnection } from '@nats-io/nats-core';
import { subjectsFor, type Subjects } from '@fairlead/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { connectNats, drainAndClose, natsCredentialsFrom } from '@fairlead/messaging';
import type { BaseConfig } from '../config';
import { databasePool } from '../database';
import { listen, type HttpApp } from '../http/app';
import { natsReadiness, postgresReadiness } from '../http/readiness';
import { exposeReaders, type ReaderSource } from '../readers';
import { createServiceApp, type HttpSurface } from '../http/service-app';
import { createLogger, type Logger } from '../logger';
import { createMetricsRegistry } from '../metrics';
import { onShutdown } from '../shutdown';
import { startTelemetry, type Telemetry } from '../telemetry/telemetry';

type MetricsRegistry = ReturnType<typeof createMetricsRegistry>;

export interface ServiceRuntime {
  logger: Logger;
  pool: pg.Pool;
  store: PostgresEventStore;
  nc: NatsConnection;
  subjects: Subjects;
  registry: MetricsRegistry;
  telemetry: Telemetry;
}

/** Opens everything a service process stands on; the event store is migrated. */
export async function openServiceRuntime(config: BaseConfig & { DATABASE_POOL_SIZE: number }): Promise<ServiceRuntime> {
  const logger = createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
  const telemetry = await startTelemetry({ serviceName: config.SERVICE_NAME });
  const pool = new pg.Pool(databasePool(config, config.DATABASE_POOL_SIZE));
  pool.on('error', (err) => logger.warn({ err }, 'idle PostgreSQL connection failed'));
  const store = createPostgresEventStore({ pool, maxEventBytes: config.EVENT_MAX_BYTES, onError: (err) => logger.warn({ err }, 'event store recovered from an error') });
  await store.migrate();
  const nc = await connectNats({ servers: config.NATS_URL.split(','), name: config.SERVICE_NAME, logger, credentials: natsCredentialsFrom(config) });
  return { logger, pool, store, nc, subjects: subjectsFor(config.NATS_NAMESPACE), registry: createMetricsRegistry(config.SERVICE_NAME), telemetry };
}

export interface ServeOptions extends HttpSurface {
  /** The started service; stopped after HTTP closes and before NATS drains. */
  service: { stop(): Promise<void> };
  /** Extra fields of the "ready" log line, given the listening address. */
  readyLog?: (address: string) => Record<string, unknown>;
  /**
   * The readers of the event log the service runs (its projections): `/readyz` is not
   * ready while one is stalled, `log_reader_*` gauges, and status replies to the operator API.
   */
  readers?: ReaderSource;
}

/**
 * Serves the service over HTTP (health, readiness on PostgreSQL and NATS, metrics, docs)
 * and installs the graceful shutdown: http, the service, nats, event store, postgres,
 * then telemetry when it is on.
 */
export async function serveService(config: BaseConfig, runtime: ServiceRuntime, options: ServeOptions): Promise<{ app: HttpApp; address: string }> {
  const { logger, pool, store, nc, registry, telemetry } = runtime;
  const readers = options.readers ? exposeReaders({ nc, subjects: runtime.subjects, registry, service: config.SERVICE_NAME }, options.readers) : undefined;
  const app = await createServiceApp({
    ...options,
    logger,
    serviceName: config.SERVICE_NAME,
    registry,
    readinessChecks: [postgresReadiness(pool), natsReadiness(nc), ...(readers ? [readers.readiness] : [])],
    corsOrigins: config.HTTP_CORS_ORIGINS,
  });
  const address = await listen(app, { host: config.HTTP_HOST, port: config.HTTP_PORT });
  logger.info({ address, namespace: runtime.subjects.namespace || '(none)', ...options.readyLog?.(address) }, `${config.SERVICE_NAME} ready`);

  onShutdown(
    [
      { name: 'http', run: () => app.close() },
      {
        name: config.SERVICE_NAME,
        run: () => {
          readers?.stop();
          return options.service.stop();
        },
      },
      { name: 'nats', run: () => drainAndClose(nc) },
      { name: 'event store', run: () => store.close() },
      { name: 'postgres', run: () => pool.end() },
      // Only when on: a disabled SDK has nothing to flush.
      ...(telemetry.enabled ? [{ name: 'telemetry', run: () => telemetry.shutdown() }] : []),
    ],
    { logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
  );
  return { app, address };
}
