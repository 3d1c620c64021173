/**
 * The notification process: `tsx services/notification/src/main.ts`. Reads its
 * environment, connects to PostgreSQL and NATS, runs migrations, starts the service and
 * its HTTP API (mail catcher, outbox, /metrics, health), and shuts down gracefully on
 * SIGTERM/SIGINT (emails in hand are finished first).
 */
import { jetstream } from '@nats-io/jetstream';
import { createTokenVerifier, loadConfig, resolveTokenVerifierOptions } from '@fairlead/platform';
import { openServiceRuntime, serveService } from '@fairlead/platform/runtime';
import { notificationConfigSchema } from './config';
import { notificationHttp } from './http/surface';
import { startNotificationService } from './service';

const config = loadConfig(notificationConfigSchema);
const runtime = await openServiceRuntime(config);
const { pool, store, nc, subjects, logger, registry } = runtime;

const service = await startNotificationService({
  pool,
  store,
  nc,
  js: jetstream(nc),
  subjects,
  logger,
  registry,
  config: {
    streamReplicas: config.NATS_STREAM_REPLICAS,
    smtpUrl: config.SMTP_URL,
    from: config.SMTP_FROM,
    smtpTimeoutMs: config.SMTP_TIMEOUT_MS,
    templatesDir: config.EMAIL_TEMPLATES_DIR,
    backoffMs: config.RETRY_BACKOFF_MS,
    concurrency: config.EMAIL_CONCURRENCY,
    catcher: { port: config.MAIL_CATCHER_PORT },
  },
});

// Outside production, without JWT_SECRET or JWT_JWKS_URL: the local development secret (platform's dev-secret.ts).
const jwt = await resolveTokenVerifierOptions(config);
if (jwt.devSecretFile) logger.warn({ file: jwt.devSecretFile }, 'using the local development JWT secret; mint tokens with `npm run token`');

await serveService(config, runtime, {
  service,
  readers: service.readers,
  ...notificationHttp(service, { verify: createTokenVerifier(jwt.options) }),
  readyLog: (address) => ({ mode: service.mode, mail: service.mode === 'catcher' ? `${address}/v1/mail` : undefined }),
});
