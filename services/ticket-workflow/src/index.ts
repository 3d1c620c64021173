/** The ticket-workflow service as a library: for its own entrypoints and tests (services never import each other). */
export * from './domain/index';
export * from './application/index';
export { createTicketWorkflowApp, type TicketWorkflowAppOptions } from './http/app';
export type { Authenticate } from './http/auth';
export { createMcpServer } from './mcp/server';
export * as templates from './templates/index';
