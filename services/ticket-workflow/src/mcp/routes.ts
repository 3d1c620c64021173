import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpApp } from '@fairlead/platform';
import type { WorkflowContext } from '../application/context';
import { findInputProblem } from '../application/input-guard';
import type { LiveFeed } from '../application/live-updates';
import type { McpCaller } from '../http/auth';
import { createMcpServer, type McpOptions } from './server';
import { McpSessions } from './sessions';

export interface McpRouteOptions extends McpOptions {
  path?: string;
  /** Runs first on every /mcp request: the Host/Origin allow-list (DNS-rebinding protection). */
  checkHost: (request: FastifyRequest) => Promise<void>;
  /** Then: who is calling (401 when nobody we know). */
  authenticate: (request: FastifyRequest) => Promise<McpCaller>;
  /** Live updates sent to sessions as notifications; none without it. */
  live?: LiveFeed;
  sessions?: { max?: number; idleMs?: number };
}

/**
 * The MCP endpoint (Streamable HTTP) at `path`.
 * - `POST` with `initialize` opens a session (Mcp-Session-Id): the client's later requests
 *   carry the id, and `GET` with it opens the event stream on which the server sends live
 *   updates as notifications; `DELETE` ends the session.
 * - `POST` without a session id and not `initialize` is answered statelessly (a fresh server
 *   and transport for that request), so simple clients need no session at all.
 * Every request is authenticated, and each tool call is authorized with the credential of
 * the request that carries it.
 */
export function registerMcpRoutes(app: HttpApp, ctx: WorkflowContext, options: McpRouteOptions): void {
  const path = options.path ?? '/mcp';
  const callers = new WeakMap<FastifyRequest, McpCaller>();
  const sessions = new McpSessions({ max: options.sessions?.max ?? 200, idleMs: options.sessions?.idleMs ?? 30 * 60_000, logger: options.logger });
  const unsubscribe = options.live?.subscribe((update) => sessions.broadcast(update));
  app.addHook('preClose', async () => {
    unsubscribe?.();
    await sessions.closeAll();
  });
  const onRequest = [options.checkHost, async (request: FastifyRequest) => void callers.set(request, await options.authenticate(request))];

  /** Hands the request to a transport, with the caller as the SDK's authInfo (tool calls are authorized with it). */
  const handle = async (request: FastifyRequest, reply: FastifyReply, transport: StreamableHTTPServerTransport, body?: unknown) => {
    const caller = callers.get(request)!;
    (request.raw as IncomingMessage & { auth?: AuthInfo }).auth = { token: '', clientId: caller.id, scopes: [], extra: { caller } };
    reply.hijack();
    try {
      await transport.handleRequest(request.raw, reply.raw, body);
    } catch (error) {
      options.logger.error({ err: error }, 'MCP request failed');
      internalError(reply.raw);
    }
  };
  const sessionOf = (request: FastifyRequest) => {
    const id = request.headers['mcp-session-id'];
    return typeof id === 'string' ? sessions.find(id, callers.get(request)!) : undefined;
  };

  // The platform's input guard answers problem+json; /mcp answers JSON-RPC errors, so it checks its body itself.
  app.post(path, { schema: { hide: true }, config: { ownBodyChecks: true }, onRequest }, async (request, reply) => {
    // The whole JSON-RPC message, before the SDK: unknown arguments would be stripped unseen, NUL would reach the store.
    const problem = findInputProblem(request.body);
    if (problem) return reply.code(400).send(rpcError(-32602, `Invalid params: ${problem.path}: ${problem.message}`, idOf(request.body)));
    if (request.headers['mcp-session-id'] !== undefined) {
      const session = sessionOf(request);
      // 404 tells the client to start a new session (an expired or foreign id looks the same).
      if (!session) return reply.code(404).send(rpcError(-32001, 'Session not found', idOf(request.body)));
      return handle(request, reply, session.transport, request.body);
    }
    const caller = callers.get(request)!;
    if (isInitializeRequest(request.body)) {
      if (sessions.full) return reply.code(503).send(rpcError(-32000, 'Too many MCP sessions; try again later', idOf(request.body)));
      const server = createMcpServer(ctx, caller, options);
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        enableJsonResponse: true,
        onsessioninitialized: (id) => sessions.add({ id, caller, server, transport }),
        onsessionclosed: (id) => sessions.remove(id),
      });
      transport.onclose = () => sessions.remove(transport.sessionId);
      await server.connect(transport);
      return handle(request, reply, transport, request.body);
    }
    const server = createMcpServer(ctx, caller, options);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    return handle(request, reply, transport, request.body);
  });

  app.get(path, { schema: { hide: true }, onRequest }, async (request, reply) => {
    const session = sessionOf(request);
    if (!session) {
      const message = request.headers['mcp-session-id'] === undefined ? 'The event stream belongs to a session: initialize first and send its Mcp-Session-Id' : 'Session not found';
      return reply.code(request.headers['mcp-session-id'] === undefined ? 405 : 404).header('allow', 'POST').send(rpcError(-32000, message, null));
    }
    session.streams++;
    reply.raw.on('close', () => {
      session.streams--;
    });
    return handle(request, reply, session.transport);
  });

  app.delete(path, { schema: { hide: true }, onRequest }, async (request, reply) => {
    const session = sessionOf(request);
    if (!session) return reply.code(404).send(rpcError(-32001, 'Session not found', null));
    return handle(request, reply, session.transport);
  });
}

const rpcError = (code: number, message: string, id: string | number | null) => ({ jsonrpc: '2.0', error: { code, message }, id });

function idOf(body: unknown): string | number | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const id = (body as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

function internalError(res: ServerResponse): void {
  if (res.headersSent) return;
  res.writeHead(500, { 'content-type': 'application/json' });
  res.end(JSON.stringify(rpcError(-32603, 'Internal error', null)));
}
