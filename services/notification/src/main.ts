/**
 * The notification process: `tsx services/notification/src/main.ts`. Reads its
 * environment, connects to PostgreSQL and NATS, runs migrations, starts the service and
 * its HTTP API (mail catcher, outbox, /metrics, health), and shuts down gracefully on
 * SIGTERM/SIGINT (emails in hand are finished first).
 */
import { jetstream } from '@nats-io/jetstream';
import pg from 'pg';
import { subjectsFor } from '@fairlead/contracts';
import { createPostgresEventStore } from '@fairlead/event-store';
import { connectNats, drainAndClose } from '@fairlead/messaging';
import { createHttpApp, createLogger, createMetricsRegistry, listen, loadConfig, natsReadiness, onShutdown, postgresReadiness } from '@fairlead/platform';
import { startTelemetry } from '@fairlead/platform/telemetry';
import { notificationConfigSchema } from './config';
import { startNotificationService } from './service';

const config = loadConfig(notificationConfigSchema);
const logger = createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
const telemetry = await startTelemetry({ serviceName: config.SERVICE_NAME });

const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE });
pool.on('error', (err) => logger.warn({ err }, 'idle PostgreSQL connection failed'));
const store = createPostgresEventStore({ pool, onError: (err) => logger.warn({ err }, 'event store recovered from an error') });
await store.migrate();
const nc = await connectNats({ servers: config.NATS_URL.split(','), name: config.SERVICE_NAME, logger });
const subjects = subjectsFor(config.NATS_NAMESPACE);

const service = await startNotificationService({
  pool,
  store,
  nc,
  js: jetstream(nc),
  subjects,
  logger,
  registry: createMetricsRegistry(config.SERVICE_NAME),
  config: {
    smtpUrl: config.SMTP_URL,
    from: config.SMTP_FROM,
    smtpTimeoutMs: config.SMTP_TIMEOUT_MS,
    templatesDir: config.EMAIL_TEMPLATES_DIR,
    backoffMs: config.RETRY_BACKOFF_MS,
    concurrency: config.EMAIL_CONCURRENCY,
    catcher: { port: config.MAIL_CATCHER_PORT },
  },
});

const app = await createHttpApp({
  logger,
  serviceName: config.SERVICE_NAME,
  readinessChecks: [postgresReadiness(pool), natsReadiness(nc)],
  openapi: { title: 'Fairlead notification', version: '0.1.0', description: 'Provider emails: the outbox, the local mail catcher, metrics.' },
});
service.registerRoutes(app);
app.get('/v1/notification/stats', { schema: { description: 'Counters of the notification consumers.' } }, async () => ({
  mode: service.mode,
  catcher_smtp: service.catcher?.url ?? null,
  consumers: service.stats(),
}));
const address = await listen(app, { host: config.HTTP_HOST, port: config.HTTP_PORT });
logger.info({ address, mode: service.mode, mail: service.mode === 'catcher' ? `${address}/v1/mail` : undefined }, 'notification ready');

onShutdown(
  [
    { name: 'http', run: () => app.close() },
    { name: 'notification', run: () => service.stop() },
    { name: 'nats', run: () => drainAndClose(nc) },
    { name: 'event store', run: () => store.close() },
    { name: 'postgres', run: () => pool.end() },
    // Only when on: a disabled SDK has nothing to flush.
    ...(telemetry.enabled ? [{ name: 'telemetry', run: () => telemetry.shutdown() }] : []),
  ],
  { logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
);
