/**
 * The ticket-workflow process: REST under /v1 (operator tokens) and MCP at /mcp (open, or
 * MCP_TOKEN) over one event store and its read models. Configuration comes from the
 * environment (see config.ts).
 */
import pg from 'pg';
import { createPostgresEventStore, observeAppends } from '@fairlead/event-store';
import {
  createLogger,
  createMetricsRegistry,
  createTokenVerifier,
  listen,
  loadConfig,
  onShutdown,
  registerHttpMetrics,
  registerMetricsRoute,
  resolveTokenVerifierOptions,
} from '@fairlead/platform';
import { startTelemetry } from '@fairlead/platform/telemetry';
import { startTicketWorkflow } from './application/start';
import { ticketWorkflowConfigSchema } from './config';
import { createTicketWorkflowApp } from './http/app';
import { createTicketWorkflowMetrics } from './metrics';

const config = loadConfig(ticketWorkflowConfigSchema);
const logger = createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
const telemetry = await startTelemetry({ serviceName: config.SERVICE_NAME });

const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE });
pool.on('error', (err) => logger.warn({ err }, 'idle database connection failed'));
const store = createPostgresEventStore({ pool, schema: config.EVENT_STORE_SCHEMA, onError: (err) => logger.warn({ err }, 'event store recovered from an error') });
await store.migrate();
const registry = createMetricsRegistry(config.SERVICE_NAME);
const metrics = createTicketWorkflowMetrics(registry, { projector: () => workflow.projector });
const workflow = await startTicketWorkflow({ store: observeAppends(store, metrics.onAppended), pool, schema: config.READ_MODEL_SCHEMA, logger });

// Operators' tokens, as the operator API verifies them; outside production without a secret or JWKS, the shared development secret.
const auth = await resolveTokenVerifierOptions(config);
if (auth.devSecretFile) logger.warn({ file: auth.devSecretFile }, 'using the local development JWT secret; mint tokens with `npm run token`');
if (!config.MCP_TOKEN && !isLoopback(config.HTTP_HOST)) logger.warn({ host: config.HTTP_HOST }, '/mcp is open to anyone who reaches this address; set MCP_TOKEN');
const { app } = await createTicketWorkflowApp({
  ctx: workflow.ctx,
  logger,
  verifyToken: createTokenVerifier(auth.options),
  ...(config.MCP_TOKEN ? { mcpToken: config.MCP_TOKEN } : {}),
  toolCallTimeoutMs: config.TOOL_CALL_TIMEOUT_MS,
  rateLimit: { max: config.RATE_LIMIT_MAX, windowMs: config.RATE_LIMIT_WINDOW_MS },
});
registerHttpMetrics(app, registry);
registerMetricsRoute(app, registry);
const address = await listen(app, { host: config.HTTP_HOST, port: config.HTTP_PORT });
logger.info({ address, mcp: `${address}/mcp`, docs: `${address}/docs` }, 'ticket-workflow listening');

const shutdown = onShutdown(
  [
    { name: 'http', run: () => app.close() },
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

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
