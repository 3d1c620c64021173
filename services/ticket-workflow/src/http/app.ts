import { createHttpApp, installAuth, installRateLimit, postgresReadiness, type HttpApp, type Logger, type ProtectedRoute, type RateLimitOptions, type TokenVerifier } from '@fairlead/platform';
import type { WorkflowContext } from '../application/context';
import type { LiveFeed } from '../application/live-updates';
import { registerEventStream, type EventStreamOptions } from './event-stream';
import { registerMcpRoutes } from '../mcp/routes';
import { mcpAuthenticator, REST_PREFIX, type McpAuthOptions } from './auth';
import { defaultHosts, hostGuard, type HostRules } from './host-check';
import { registerRestRoutes } from './routes';

export interface TicketWorkflowAppOptions {
  ctx: WorkflowContext;
  logger: Logger;
  /** Verifies operators' bearer tokens on every REST route (platform's createTokenVerifier). */
  verifyToken: TokenVerifier;
  /**
   * What /mcp accepts (at least one): the agents' token and/or operators' JWTs, and the
   * Host/Origin allow-list (loopback names by default).
   */
  mcp: McpAuthOptions & { hosts?: Partial<HostRules> };
  /** Upper bound of one MCP tool call. */
  toolCallTimeoutMs?: number;
  /** Requests per client and window, REST and MCP together (default 1200 per minute). */
  rateLimit?: RateLimitOptions;
  /** Live updates: MCP notifications to sessions and `GET /v1/events/stream` (neither without it). */
  live?: LiveFeed;
  /** Stateful MCP sessions kept at most, and their idle timeout. */
  mcpSessions?: { max?: number; idleMs?: number };
  eventStream?: EventStreamOptions;
}

export interface TicketWorkflowApp {
  app: HttpApp;
  /** Every protected REST route as registered (method, url, access level). */
  routes: readonly ProtectedRoute[];
}

/** The service's HTTP surface: REST under /v1 (operator tokens), MCP at /mcp, health, readiness and OpenAPI at /docs. */
export async function createTicketWorkflowApp(options: TicketWorkflowAppOptions): Promise<TicketWorkflowApp> {
  const app = await createHttpApp({
    logger: options.logger,
    serviceName: 'ticket-workflow',
    readinessChecks: [postgresReadiness(options.ctx.pool)],
    openapi: {
      title: 'Fairlead ticket workflow',
      version: '0.1.0',
      description:
        'Multi-stage tickets for coordinator and worker agents, and template distribution. The same operations are MCP tools at /mcp. ' +
        'REST needs an operator bearer JWT (the operator API\'s): viewer for reads (GET), operator with MFA (amr includes "mfa") for every change.',
      bearerAuth: true,
    },
    // Templates and rendered tickets travel in bodies.
    bodyLimit: 4 * 1024 * 1024,
  });
  await installRateLimit(app, { max: 1_200, ...options.rateLimit });
  const routes = installAuth(app, options.verifyToken, { prefix: REST_PREFIX });
  registerRestRoutes(app, options.ctx, { prefix: REST_PREFIX.slice(0, -1) });
  if (options.live) registerEventStream(app, options.live, REST_PREFIX.slice(0, -1), options.eventStream);
  registerMcpRoutes(app, options.ctx, {
    logger: options.logger,
    checkHost: hostGuard({ hosts: options.mcp.hosts?.hosts ?? defaultHosts('127.0.0.1'), origins: options.mcp.hosts?.origins ?? [] }),
    authenticate: mcpAuthenticator(options.mcp),
    ...(options.live ? { live: options.live } : {}),
    ...(options.mcpSessions ? { sessions: options.mcpSessions } : {}),
    ...(options.toolCallTimeoutMs ? { callTimeoutMs: options.toolCallTimeoutMs } : {}),
  });
  return { app, routes };
}
