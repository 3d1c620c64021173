/**
 * The fairness process: `tsx services/fairness/src/main.ts`. Reads its environment,
 * connects to PostgreSQL and NATS, runs migrations, starts the service and the health
 * endpoints, and shuts down gracefully on SIGTERM/SIGINT (running distributions finish;
 * a kill -9 is recovered by the next process from the lead streams).
 */
import { jetstream } from '@nats-io/jetstream';
import pg from 'pg';
import { subjectsFor } from '@fairlead/contracts';
import { createPostgresEventStore } from '@fairlead/event-store';
import { connectNats, drainAndClose } from '@fairlead/messaging';
import { createHttpApp, createLogger, createMetricsRegistry, listen, loadConfig, natsReadiness, onShutdown, postgresReadiness, registerHttpMetrics, registerMetricsRoute } from '@fairlead/platform';
import { startTelemetry } from '@fairlead/platform/telemetry';
import { fairnessConfigSchema } from './config';
import { startFairnessService } from './service';

const config = loadConfig(fairnessConfigSchema);
const logger = createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
const telemetry = await startTelemetry({ serviceName: config.SERVICE_NAME });

const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE });
pool.on('error', (err) => logger.warn({ err }, 'idle PostgreSQL connection failed'));
const store = createPostgresEventStore({ pool, onError: (err) => logger.warn({ err }, 'event store recovered from an error') });
await store.migrate();
const nc = await connectNats({ servers: config.NATS_URL.split(','), name: config.SERVICE_NAME, logger });
const subjects = subjectsFor(config.NATS_NAMESPACE);

const service = await startFairnessService({
  pool,
  store,
  nc,
  js: jetstream(nc),
  subjects,
  logger,
  registry: createMetricsRegistry(config.SERVICE_NAME),
  config: {
    backoffMs: config.RETRY_BACKOFF_MS,
    concurrency: config.DISTRIBUTION_CONCURRENCY,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    ackWaitMs: config.ACK_WAIT_MS,
  },
});

const app = await createHttpApp({
  logger,
  serviceName: config.SERVICE_NAME,
  readinessChecks: [postgresReadiness(pool), natsReadiness(nc)],
  openapi: { title: 'Fairlead fairness', version: '0.1.0', description: 'Lead distribution (eligibility, fairness, assignments) and subscriptions.' },
});
registerHttpMetrics(app, service.registry);
app.get('/v1/distribution/stats', async () => service.stats());
registerMetricsRoute(app, service.registry);
const address = await listen(app, { host: config.HTTP_HOST, port: config.HTTP_PORT });
logger.info({ address, namespace: subjects.namespace || '(none)' }, 'fairness ready');

onShutdown(
  [
    { name: 'http', run: () => app.close() },
    { name: 'fairness', run: () => service.stop() },
    { name: 'nats', run: () => drainAndClose(nc) },
    { name: 'event store', run: () => store.close() },
    { name: 'postgres', run: () => pool.end() },
    // Only when on: a disabled SDK has nothing to flush.
    ...(telemetry.enabled ? [{ name: 'telemetry', run: () => telemetry.shutdown() }] : []),
  ],
  { logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
);
