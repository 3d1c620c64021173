import { createHttpApp, postgresReadiness, type HttpApp, type Logger } from '@fairlead/platform';
import type { WorkflowContext } from '../application/context';
import { registerMcpRoutes } from '../mcp/routes';
import type { Authenticate } from './auth';
import { registerRestRoutes } from './routes';

export interface TicketWorkflowAppOptions {
  ctx: WorkflowContext;
  logger: Logger;
  /** Runs before every REST and MCP request; none until operator authentication exists. */
  authenticate?: Authenticate;
  /** Upper bound of one MCP tool call. */
  toolCallTimeoutMs?: number;
}

/** The service's HTTP surface: REST under /v1, MCP at /mcp, health, readiness and OpenAPI at /docs. */
export async function createTicketWorkflowApp(options: TicketWorkflowAppOptions): Promise<HttpApp> {
  const app = await createHttpApp({
    logger: options.logger,
    serviceName: 'ticket-workflow',
    readinessChecks: [postgresReadiness(options.ctx.pool)],
    openapi: {
      title: 'Fairlead ticket workflow',
      version: '0.1.0',
      description: 'Multi-stage tickets for coordinator and worker agents, and template distribution. The same operations are MCP tools at /mcp.',
    },
    // Templates and rendered tickets travel in bodies.
    bodyLimit: 4 * 1024 * 1024,
  });
  const auth = options.authenticate ? { authenticate: options.authenticate } : {};
  registerRestRoutes(app, options.ctx, auth);
  registerMcpRoutes(app, options.ctx, { logger: options.logger, ...auth, ...(options.toolCallTimeoutMs ? { callTimeoutMs: options.toolCallTimeoutMs } : {}) });
  return app;
}
