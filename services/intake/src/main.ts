/**
 * The intake process: `tsx services/intake/src/main.ts`. Reads its environment, connects
 * to PostgreSQL and NATS, runs the event store's migrations, consumes `lead.approved`,
 * serves the intake commands, the HTTP routes and the health endpoints, and shuts down
 * gracefully on SIGTERM/SIGINT (messages in progress finish; unacknowledged ones are
 * redelivered to the next process, and approvals are idempotent by lead id).
 */
import pg from 'pg';
import { subjectsFor } from '@fairlead/contracts';
import { createPostgresEventStore } from '@fairlead/event-store';
import { connectNats, drainAndClose } from '@fairlead/messaging';
import { createHttpApp, createLogger, createMetricsRegistry, listen, loadConfig, natsReadiness, onShutdown, postgresReadiness, registerHttpMetrics, registerMetricsRoute } from '@fairlead/platform';
import { startTelemetry } from '@fairlead/platform/telemetry';
import { intakeConfigSchema } from './config';
import { registerIntakeRoutes } from './http/routes';
import { startIntakeService } from './service';

const config = loadConfig(intakeConfigSchema);
const logger = createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
const telemetry = await startTelemetry({ serviceName: config.SERVICE_NAME });

const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE });
pool.on('error', (err) => logger.warn({ err }, 'idle PostgreSQL connection failed'));
const store = createPostgresEventStore({ pool, onError: (err) => logger.warn({ err }, 'event store recovered from an error') });
await store.migrate();
const nc = await connectNats({ servers: config.NATS_URL.split(','), name: config.SERVICE_NAME, logger });
const subjects = subjectsFor(config.NATS_NAMESPACE);

const service = await startIntakeService({
  pool,
  store,
  nc,
  subjects,
  logger,
  registry: createMetricsRegistry(config.SERVICE_NAME),
  config: { backoffMs: config.RETRY_BACKOFF_MS, concurrency: config.INTAKE_CONCURRENCY, requestTimeoutMs: config.REQUEST_TIMEOUT_MS },
});

const app = await createHttpApp({
  logger,
  serviceName: config.SERVICE_NAME,
  readinessChecks: [postgresReadiness(pool), natsReadiness(nc)],
  openapi: { title: 'Fairlead intake', version: '0.1.0', description: 'Approved leads in (lead.approved v1), rejections with reasons, distribution requests.' },
});
registerHttpMetrics(app, service.registry);
registerMetricsRoute(app, service.registry);
registerIntakeRoutes(app, service.commands);
app.get('/v1/intake/stats', { schema: { hide: true } }, async () => service.stats());
const address = await listen(app, { host: config.HTTP_HOST, port: config.HTTP_PORT });
logger.info({ address, namespace: subjects.namespace || '(none)' }, 'intake ready');

onShutdown(
  [
    { name: 'http', run: () => app.close() },
    { name: 'intake', run: () => service.stop() },
    { name: 'nats', run: () => drainAndClose(nc) },
    { name: 'event store', run: () => store.close() },
    { name: 'postgres', run: () => pool.end() },
    // Only when on: a disabled SDK has nothing to flush.
    ...(telemetry.enabled ? [{ name: 'telemetry', run: () => telemetry.shutdown() }] : []),
  ],
  { logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
);
