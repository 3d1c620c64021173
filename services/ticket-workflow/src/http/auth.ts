/**
 * Who may call what in ticket-workflow. REST under /v1 is for operators, behind the
 * platform's operator authentication (the same JWT settings, roles and rules as the
 * operator API): reads need `viewer`; every change needs `operator` and a token that went
 * through MFA, as every change does in the operator API. MCP at /mcp is for agents, not
 * operators: open by default (the service listens on loopback), or, when MCP_TOKEN is
 * set, only with `Authorization: Bearer <MCP_TOKEN>`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { UnauthorizedError, type Access } from '@fairlead/platform';

/** Every route under this prefix needs an operator token (health, readiness, docs, metrics and /mcp stay outside). */
export const REST_PREFIX = '/v1/';

/** A REST route's access level: GET reads (viewer), anything else changes (operator, with MFA). */
export function accessOf(method: string): Access {
  return method === 'GET' ? 'read' : 'operate';
}

/** The `onRequest` hook of /mcp when MCP_TOKEN is set: the shared bearer token, compared in constant time. */
export function requireMcpToken(token: string): (request: FastifyRequest) => Promise<void> {
  const expected = digest(token);
  return async (request) => {
    const header = request.headers.authorization;
    if (!header) throw new UnauthorizedError('The MCP endpoint needs Authorization: Bearer <MCP_TOKEN>.', { code: 'MCP_TOKEN_MISSING' });
    const given = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    // Digests have one length, so timingSafeEqual never throws and the length leaks nothing.
    if (!given || !timingSafeEqual(digest(given), expected)) throw new UnauthorizedError('The MCP token is not valid.', { code: 'MCP_TOKEN_INVALID' });
  };
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
