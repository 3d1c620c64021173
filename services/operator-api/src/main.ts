/**
 * The operator API process: `tsx services/operator-api/src/main.ts`. Reads its
 * environment (DATABASE_URL, NATS_URL, NATS_NAMESPACE, JWT_SECRET or JWT_JWKS_URL,
 * HTTP_PORT, …), connects, starts the read models and the HTTP API, and shuts down
 * gracefully on SIGTERM/SIGINT.
 */
import pg from 'pg';
import { subjectsFor } from '@fairlead/contracts';
import { createPostgresEventStore } from '@fairlead/event-store';
import { connectNats, natsCredentialsFrom, drainAndClose } from '@fairlead/messaging';
import { createLogger, databasePool, loadConfig, onShutdown, resolveTokenVerifierOptions } from '@fairlead/platform';
import { startTelemetry } from '@fairlead/platform/telemetry';
import { operatorApiConfigSchema } from './config';
import { startOperatorApi } from './service';

const config = loadConfig(operatorApiConfigSchema);
const logger = createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
const telemetry = await startTelemetry({ serviceName: config.SERVICE_NAME });

const pool = new pg.Pool(databasePool(config, config.DATABASE_POOL_SIZE));
pool.on('error', (err) => logger.warn({ err }, 'idle PostgreSQL connection failed'));
const store = createPostgresEventStore({ pool, maxEventBytes: config.EVENT_MAX_BYTES, onError: (err) => logger.warn({ err }, 'event store recovered from an error') });
await store.migrate();
const nc = await connectNats({ servers: config.NATS_URL.split(','), name: config.SERVICE_NAME, logger, credentials: natsCredentialsFrom(config) });
const subjects = subjectsFor(config.NATS_NAMESPACE);

// Outside production, no secret and no JWKS means the local development secret (platform's dev-secret.ts).
const auth = await resolveTokenVerifierOptions(config);
if (auth.devSecretFile) logger.warn({ file: auth.devSecretFile }, 'using the local development JWT secret; mint tokens with `npm run token`');

const api = await startOperatorApi({
  pool,
  store,
  nc,
  subjects,
  logger,
  serviceName: config.SERVICE_NAME,
  auth: auth.options,
  config: {
    streamReplicas: config.NATS_STREAM_REPLICAS,
    rateLimitMax: config.RATE_LIMIT_MAX,
    rateLimitWindowMs: config.RATE_LIMIT_WINDOW_MS,
    commandTimeoutMs: config.COMMAND_TIMEOUT_MS,
    trustProxy: config.HTTP_TRUST_PROXY,
    corsOrigins: config.HTTP_CORS_ORIGINS,
    projectionMinReadIntervalMs: config.OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS,
  },
});
const address = await api.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
logger.info({ address, docs: `${address}/docs`, namespace: subjects.namespace || '(none)' }, 'operator API ready');

onShutdown(
  [
    { name: 'operator api', run: () => api.stop() },
    { name: 'nats', run: () => drainAndClose(nc) },
    { name: 'event store', run: () => store.close() },
    { name: 'postgres', run: () => pool.end() },
    // Only when on: a disabled SDK has nothing to flush.
    ...(telemetry.enabled ? [{ name: 'telemetry', run: () => telemetry.shutdown() }] : []),
  ],
  { logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
);
