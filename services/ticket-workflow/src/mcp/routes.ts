import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyRequest } from 'fastify';
import type { HttpApp } from '@fairlead/platform';
import type { WorkflowContext } from '../application/context';
import { findInputProblem } from '../application/input-guard';
import type { McpCaller } from '../http/auth';
import { createMcpServer, type McpOptions } from './server';

export interface McpRouteOptions extends McpOptions {
  path?: string;
  /** Runs first on every /mcp request: the Host/Origin allow-list (DNS-rebinding protection). */
  checkHost: (request: FastifyRequest) => Promise<void>;
  /** Then: who is calling (401 when nobody we know). */
  authenticate: (request: FastifyRequest) => Promise<McpCaller>;
}

/**
 * The MCP endpoint (Streamable HTTP) at `path`, stateless: every POST gets its own server
 * and transport, so any instance can answer any request and nothing leaks between
 * agents. GET (server-initiated streams) and DELETE (sessions) are not offered.
 */
export function registerMcpRoutes(app: HttpApp, ctx: WorkflowContext, options: McpRouteOptions): void {
  const path = options.path ?? '/mcp';
  const callers = new WeakMap<FastifyRequest, McpCaller>();
  const onRequest = [options.checkHost, async (request: FastifyRequest) => void callers.set(request, await options.authenticate(request))];
  app.post(path, { schema: { hide: true }, onRequest }, async (request, reply) => {
    // The whole JSON-RPC message, before the SDK: unknown arguments would be stripped unseen, NUL would reach the store.
    const problem = findInputProblem(request.body);
    if (problem) {
      const id = isRecord(request.body) && (typeof request.body.id === 'string' || typeof request.body.id === 'number') ? request.body.id : null;
      return reply.code(400).send({ jsonrpc: '2.0', error: { code: -32602, message: `Invalid params: ${problem.path}: ${problem.message}` }, id });
    }
    const server = createMcpServer(ctx, callers.get(request)!, options);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (error) {
      options.logger.error({ err: error }, 'MCP request failed');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }));
      }
    }
  });
  const notAllowed = { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP endpoint is stateless; use POST' }, id: null };
  app.get(path, { schema: { hide: true }, onRequest }, async (_request, reply) => reply.code(405).header('allow', 'POST').send(notAllowed));
  app.delete(path, { schema: { hide: true }, onRequest }, async (_request, reply) => reply.code(405).header('allow', 'POST').send(notAllowed));
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
