/** The ticket-workflow service as a library: for its own entrypoints and tests (services never import each other). */
export * from './domain/index';
export * from './application/index';
export { createTicketWorkflowApp, type TicketWorkflowApp, type TicketWorkflowAppOptions } from './http/app';
export { mcpAuthenticator, REST_PREFIX, type McpCaller, type McpAuthOptions } from './http/auth';
export { defaultHosts, hostAllowed, type HostRules } from './http/host-check';
export { createMcpServer } from './mcp/server';
export * as templates from './templates/index';
export { ticketWorkflowConfigSchema } from './config';
