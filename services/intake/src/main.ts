/**
 * The intake process: `tsx services/intake/src/main.ts`. Reads its environment, connects
 * to PostgreSQL and NATS, runs the event store's migrations, consumes `lead.approved`,
 * serves the intake commands, the HTTP routes and the health endpoints, and shuts down
 * gracefully on SIGTERM/SIGINT (messages in progress finish; unacknowledged ones are
 * redelivered to the next process, and approvals are idempotent by lead id).
 */
import { createApiKeyVerifier, createTokenVerifier, loadConfig, resolveTokenVerifierOptions, resolveUpstreamKeys } from '@fairlead/platform';
import { openServiceRuntime, serveService } from '@fairlead/platform/runtime';
import { intakeConfigSchema } from './config';
import { intakeHttp } from './http/surface';
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

// Outside production, without configured credentials: the local development JWT secret and
// upstream API key, each a file under the data directory (platform's dev-secret.ts).
const jwt = await resolveTokenVerifierOptions(config);
const upstream = await resolveUpstreamKeys(config);
if (jwt.devSecretFile) logger.warn({ file: jwt.devSecretFile }, 'using the local development JWT secret; mint tokens with `npm run token`');
if (upstream.devKeyFile) logger.warn({ file: upstream.devKeyFile }, 'using the local development upstream API key (send it as X-Api-Key)');

await serveService(config, runtime, {
  service,
  ...intakeHttp(service, { verify: createTokenVerifier(jwt.options), apiKeys: createApiKeyVerifier(upstream.keys) }),
});
