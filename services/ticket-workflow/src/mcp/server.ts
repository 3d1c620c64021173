import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { authorize, isAppError, type Logger } from '@fairlead/platform';
import { assertAcceptableInput } from '../application/input-guard';
import { OPERATIONS, type Operation } from '../application/operations';
import type { WorkflowContext } from '../application/context';
import { isTicketWorkflowError } from '../domain/index';
import type { McpCaller } from '../http/auth';

export interface McpOptions {
  logger: Pick<Logger, 'error' | 'warn'>;
  /** A tool call that takes longer answers with a tool error instead of hanging the agent. */
  callTimeoutMs?: number;
}

/**
 * An MCP server exposing every operation as a tool, for one authenticated caller. The SDK
 * validates arguments with the operation's zod schema (a bad call becomes a tool error
 * with zod's reasons); then the arguments are checked for what cannot be stored (NUL,
 * lone surrogates), an operator's token for the operation's access level; refusals of the
 * domain become tool errors with their stable code. It declares `logging`: live updates
 * reach connected clients as `notifications/message` (see mcp/sessions.ts).
 */
export function createMcpServer(ctx: WorkflowContext, caller: McpCaller, options: McpOptions): McpServer {
  const server = new McpServer({ name: 'fairlead-ticket-workflow', version: '0.1.0' }, { capabilities: { tools: {}, logging: {} } });
  // The SDK's generics infer argument types from literal schemas; ours come from a list.
  const register = server.registerTool.bind(server) as unknown as (
    name: string,
    config: { description: string; inputSchema: unknown },
    handler: (args: unknown, extra: { authInfo?: { extra?: Record<string, unknown> } }) => Promise<CallToolResult>,
  ) => void;
  for (const operation of OPERATIONS) {
    register(operation.name, { description: operation.description, inputSchema: operation.input }, (args, extra) => {
      // The credential of the request carrying this call (a session outlives a token); the session's opener otherwise.
      const current = (extra.authInfo?.extra?.caller as McpCaller | undefined) ?? caller;
      // What this caller does is recorded as done by it (event metadata), never by a name from the arguments.
      return callTool({ ...ctx, actor: current.id }, current, operation, args, options);
    });
  }
  return server;
}

async function callTool(ctx: WorkflowContext, caller: McpCaller, operation: Operation, args: unknown, options: McpOptions): Promise<CallToolResult> {
  const timeoutMs = options.callTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    if (caller.kind === 'operator') authorize(caller.principal, operation.access);
    assertAcceptableInput(args, 'arguments');
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ToolTimeout(`${operation.name} did not finish within ${timeoutMs} ms`)), timeoutMs);
    });
    const result = await Promise.race([operation.run(ctx, args), timeout]);
    const structured = isRecord(result) ? result : { items: result };
    return { content: [{ type: 'text', text: JSON.stringify(result, null, 2) }], structuredContent: structured };
  } catch (error) {
    if (isTicketWorkflowError(error)) return toolError(error.code, error.message);
    if (isAppError(error) && error.status < 500) return toolError(error.code, error.message);
    if (error instanceof ToolTimeout) {
      options.logger.warn({ tool: operation.name }, error.message);
      return toolError('TIMEOUT', error.message);
    }
    options.logger.error({ err: error, tool: operation.name }, 'tool call failed');
    return toolError('INTERNAL_ERROR', `${operation.name} failed unexpectedly; the error was logged`);
  } finally {
    clearTimeout(timer);
  }
}

class ToolTimeout extends Error {}

const toolError = (code: string, message: string): CallToolResult => ({
  isError: true,
  content: [{ type: 'text', text: `${code}: ${message}` }],
  structuredContent: { error: { code, message } },
});

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
