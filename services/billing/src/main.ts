/**
 * The billing process: `tsx services/billing/src/main.ts`. Reads its environment,
 * connects to PostgreSQL and NATS, runs migrations, serves the billing commands and the
 * health endpoints, and shuts down gracefully on SIGTERM/SIGINT. A kill -9 loses
 * nothing: every decision commits with its event, and a repeated charge is answered
 * from the record.
 */
import pg from 'pg';
import { subjectsFor } from '@fairlead/contracts';
import { createPostgresEventStore } from '@fairlead/event-store';
import { connectNats, drainAndClose } from '@fairlead/messaging';
import { createHttpApp, createLogger, createMetricsRegistry, listen, loadConfig, natsReadiness, onShutdown, postgresReadiness, registerHttpMetrics, registerMetricsRoute } from '@fairlead/platform';
import { startTelemetry } from '@fairlead/platform/telemetry';
import { billingConfigSchema } from './config';
import { startBillingService } from './service';

const config = loadConfig(billingConfigSchema);
const logger = createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
const telemetry = await startTelemetry({ serviceName: config.SERVICE_NAME });

const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE });
pool.on('error', (err) => logger.warn({ err }, 'idle PostgreSQL connection failed'));
const store = createPostgresEventStore({ pool, onError: (err) => logger.warn({ err }, 'event store recovered from an error') });
await store.migrate();
const nc = await connectNats({ servers: config.NATS_URL.split(','), name: config.SERVICE_NAME, logger });
const subjects = subjectsFor(config.NATS_NAMESPACE);

const service = await startBillingService({ pool, store, nc, subjects, logger, registry: createMetricsRegistry(config.SERVICE_NAME) });

const app = await createHttpApp({
  logger,
  serviceName: config.SERVICE_NAME,
  readinessChecks: [postgresReadiness(pool), natsReadiness(nc)],
  openapi: { title: 'Fairlead billing', version: '0.1.0', description: 'Providers, wallets, charges and refunds (commands over NATS).' },
});
registerHttpMetrics(app, service.registry);
registerMetricsRoute(app, service.registry);
const address = await listen(app, { host: config.HTTP_HOST, port: config.HTTP_PORT });
logger.info({ address, namespace: subjects.namespace || '(none)' }, 'billing ready');

onShutdown(
  [
    { name: 'http', run: () => app.close() },
    { name: 'billing', run: () => service.stop() },
    { name: 'nats', run: () => drainAndClose(nc) },
    { name: 'event store', run: () => store.close() },
    { name: 'postgres', run: () => pool.end() },
    // Only when on: a disabled SDK has nothing to flush.
    ...(telemetry.enabled ? [{ name: 'telemetry', run: () => telemetry.shutdown() }] : []),
  ],
  { logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
);
