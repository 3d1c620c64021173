/**
 * The intake process: `tsx services/intake/src/main.ts`. Reads its environment, connects
 * to PostgreSQL and NATS, runs the event store's migrations, consumes `lead.approved`,
 * serves the intake commands, the HTTP routes and the health endpoints, and shuts down
 * gracefully on SIGTERM/SIGINT (messages in progress finish; unacknowledged ones are
 * redelivered to the next process, and approvals are idempotent by lead id).
 */
import { loadConfig } from '@fairlead/platform';
import { openServiceRuntime, serveService } from '@fairlead/platform/runtime';
import { intakeConfigSchema } from './config';
import { registerIntakeRoutes } from './http/routes';
import { startIntakeService } from './service';

const config = loadConfig(intakeConfigSchema);
const runtime = await openServiceRuntime(config);
const { pool, store, nc, subjects, logger, registry } = runtime;

const service = await startIntakeService({
  pool,
  store,
  nc,
  subjects,
  logger,
  registry,
  config: {
    streamReplicas: config.NATS_STREAM_REPLICAS,
    backoffMs: config.RETRY_BACKOFF_MS,
    concurrency: config.INTAKE_CONCURRENCY,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    nicheCacheTtlMs: config.NICHE_CACHE_TTL_MS,
    leadLimits: { maxBytes: config.LEAD_MAX_BYTES, maxDepth: config.LEAD_MAX_DEPTH },
  },
});

await serveService(config, runtime, {
  service,
  title: 'Fairlead intake',
  description: 'Approved leads in (lead.approved v1), rejections with reasons, distribution requests.',
  routes: (app) => {
    registerIntakeRoutes(app, service.commands);
    app.get('/v1/intake/stats', { schema: { hide: true } }, async () => service.stats());
  },
});
