/**
 * What the `fairlead tickets` commands (cli/) run: argument rules and the run itself.
 * Exported as `@fairlead/ticket-workflow/cli`.
 */
export { distributeCommand, historyCommand, rollbackCommand, UsageError, type ArgsContext, type CliCommand, type CliRoots, type DistributeOptions } from './args';
export { runTickets, ticketsEnvSchema, type RunTicketsOptions } from './run';
export { isTicketWorkflowError } from '../domain/index';
