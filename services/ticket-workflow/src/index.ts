/** The ticket-workflow service as a library: for its own entrypoints and tests (services never import each other). */
export * from './domain/index';
export * from './application/index';
export { createTicketWorkflowApp, type TicketWorkflowApp, type TicketWorkflowAppOptions } from './http/app';
export { accessOf, requireMcpToken, REST_PREFIX } from './http/auth';
export { createMcpServer } from './mcp/server';
export * as templates from './templates/index';
export { ticketWorkflowConfigSchema } from './config';
