/**
 * The ticket-workflow process: REST under /v1 (operator tokens) and MCP at /mcp (the agents'
 * MCP token and/or operator tokens) over one event store and its read models.
 * Configuration comes from the environment (see config.ts).
 */
import pg from 'pg';
import { createPostgresEventStore, observeAppends } from '@fairlead/event-store';
import {
  createLogger,
  createMetricsRegistry,
  createTokenVerifier,
  databasePool,
  listen,
  loadConfig,
  onShutdown,
  registerHttpMetrics,
  registerMetricsRoute,
  resolveTokenVerifierOptions,
} from '@fairlead/platform';
import { startTelemetry } from '@fairlead/platform/telemetry';
import { startLeaseKeeper } from './application/leases';
import { startTicketWorkflow } from './application/start';
import { ticketWorkflowConfigSchema } from './config';
import { createTicketWorkflowApp } from './http/app';
import { defaultHosts } from './http/host-check';
import { createTicketWorkflowMetrics } from './metrics';
import { resolveMcpToken, resolveRoots } from './startup';

let config;
try {
  config = loadConfig(ticketWorkflowConfigSchema);
} catch (error) {
  // A refused configuration (e.g. production without an MCP credential) says why and stops.
  console.error(`ticket-workflow cannot start: ${(error as Error).message}`);
  process.exit(2);
}
const logger = createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
const mcpToken = await resolveMcpToken(config);
const files = await resolveRoots(config);
const telemetry = await startTelemetry({ serviceName: config.SERVICE_NAME });

const pool = new pg.Pool(databasePool(config, config.DATABASE_POOL_SIZE));
pool.on('error', (err) => logger.warn({ err }, 'idle database connection failed'));
const store = createPostgresEventStore({ pool, schema: config.EVENT_STORE_SCHEMA, maxEventBytes: config.EVENT_MAX_BYTES, onError: (err) => logger.warn({ err }, 'event store recovered from an error') });
await store.migrate();
const registry = createMetricsRegistry(config.SERVICE_NAME);
const metrics = createTicketWorkflowMetrics(registry, { projector: () => workflow.projector });
const workflow = await startTicketWorkflow({
  store: observeAppends(store, metrics.onAppended),
  pool,
  schema: config.READ_MODEL_SCHEMA,
  logger,
  files,
  taskLeaseMs: config.TASK_LEASE_MS,
  liveUpdates: true,
  onLiveUpdateError: (err) => logger.warn({ err }, 'live updates failed'),
});
// Tasks whose holder stopped or went silent past the lease go back to their queues.
const leaseKeeper = startLeaseKeeper(workflow.ctx, {
  leaseMs: config.TASK_LEASE_MS,
  intervalMs: config.TASK_LEASE_CHECK_MS,
  onError: (err) => logger.warn({ err }, 'releasing expired tasks failed; trying again at the next check'),
});

// Operators' tokens, as the operator API verifies them; outside production without a secret or JWKS, the shared development secret.
const auth = await resolveTokenVerifierOptions(config);
if (auth.devSecretFile) logger.warn({ file: auth.devSecretFile }, 'using the local development JWT secret; mint tokens with `npm run token`');
if (mcpToken?.generated) logger.warn({ file: mcpToken.file }, 'generated the local MCP token; agents send Authorization: Bearer <its content>');
const verifyToken = createTokenVerifier(auth.options);
const { app } = await createTicketWorkflowApp({
  ctx: workflow.ctx,
  logger,
  verifyToken,
  mcp: {
    ...(mcpToken ? { token: mcpToken.token } : {}),
    ...(config.MCP_AUTH.includes('jwt') ? { verifyToken } : {}),
    hosts: { hosts: config.MCP_ALLOWED_HOSTS ?? defaultHosts(config.HTTP_HOST), origins: config.MCP_ALLOWED_ORIGINS ?? [] },
  },
  toolCallTimeoutMs: config.TOOL_CALL_TIMEOUT_MS,
  ...(workflow.live ? { live: workflow.live } : {}),
  mcpSessions: { max: config.MCP_MAX_SESSIONS, idleMs: config.MCP_SESSION_IDLE_MS },
  rateLimit: { max: config.RATE_LIMIT_MAX, windowMs: config.RATE_LIMIT_WINDOW_MS },
});
registerHttpMetrics(app, registry);
registerMetricsRoute(app, registry);
const address = await listen(app, { host: config.HTTP_HOST, port: config.HTTP_PORT });
logger.info(
  { address, mcp: `${address}/mcp`, mcpAuth: config.MCP_AUTH, ...(mcpToken?.file ? { mcpTokenFile: mcpToken.file } : {}), docs: `${address}/docs`, ...files },
  'ticket-workflow listening',
);

const shutdown = onShutdown(
  [
    { name: 'http', run: () => app.close() },
    { name: 'lease keeper', run: () => leaseKeeper.stop() },
    { name: 'projector', run: () => workflow.stop() },
    { name: 'event store', run: () => store.close() },
    { name: 'postgres', run: () => pool.end() },
    // Only when on: a disabled SDK has nothing to flush.
    ...(telemetry.enabled ? [{ name: 'telemetry', run: () => telemetry.shutdown() }] : []),
  ],
  { logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
);

// Without its projector the read models go stale; better to exit and be restarted.
void workflow.projector.done.catch((err: unknown) => {
  logger.fatal({ err }, 'read model projector stopped');
  void shutdown.shutdown('projector failed');
});
