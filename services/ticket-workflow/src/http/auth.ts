/**
 * Who may call what in ticket-workflow. REST under /v1 is for operators, behind the
 * platform's operator authentication (the same JWT settings, roles and rules as the
 * operator API): each route needs its operation's access level (reads `viewer`, changes
 * `operator` with MFA, template distribution `admin` with MFA). MCP at /mcp always needs a
 * credential: the agents' static token (MCP_TOKEN) and/or an operator JWT, verified as
 * REST verifies it and then checked per tool against the same access levels.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { UnauthorizedError, type Principal, type TokenVerifier } from '@fairlead/platform';

/** Every route under this prefix needs an operator token (health, readiness, docs, metrics and /mcp stay outside). */
export const REST_PREFIX = '/v1/';

/** Who called /mcp: an agent with the static token (every tool), or an operator with a verified JWT (per-tool access). */
export type McpCaller = { kind: 'agent'; id: string } | { kind: 'operator'; id: string; principal: Principal };

export interface McpAuthOptions {
  /** The agents' shared bearer token. */
  token?: string;
  /** Operators' JWTs (platform's createTokenVerifier, the REST API's). */
  verifyToken?: TokenVerifier;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Authenticates a /mcp request: `Authorization: Bearer <MCP_TOKEN>` (compared in
 * constant time) or `Bearer <operator JWT>`. Anything else is a 401 with a stable code:
 * MCP_TOKEN_MISSING, MCP_TOKEN_INVALID, or the JWT's own (TOKEN_EXPIRED, TOKEN_INVALID, …).
 */
export function mcpAuthenticator(options: McpAuthOptions): (request: FastifyRequest) => Promise<McpCaller> {
  if (!options.token && !options.verifyToken) throw new Error('/mcp needs a credential: an MCP token, operator JWTs, or both');
  const expected = options.token ? digest(options.token) : undefined;
  const accepted = [options.token ? 'Bearer <MCP_TOKEN>' : undefined, options.verifyToken ? 'Bearer <operator JWT>' : undefined].filter(Boolean).join(' or ');
  return async (request) => {
    const header = request.headers.authorization;
    if (!header) throw new UnauthorizedError(`The MCP endpoint needs Authorization: ${accepted}.`, { code: 'MCP_TOKEN_MISSING' });
    const given = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (given && expected && timingSafeEqual(digest(given), expected)) return { kind: 'agent', id: 'mcp-agent' };
    if (given && options.verifyToken && JWT_SHAPE.test(given)) {
      const principal = await options.verifyToken(`Bearer ${given}`);
      return { kind: 'operator', id: `operator:${principal.sub}`, principal };
    }
    throw new UnauthorizedError('The MCP credential is not valid.', { code: 'MCP_TOKEN_INVALID' });
  };
}

// Digests have one length, so timingSafeEqual never throws and the length leaks nothing.
const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
