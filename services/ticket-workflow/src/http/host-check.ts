/**
 * DNS-rebinding protection for /mcp: a web page on evil.example whose name was made to
 * resolve to 127.0.0.1 reaches the local service with `Host: evil.example` (and an
 * Origin of that page). Requests are answered only for allowed host names and, when a
 * browser says where it comes from, allowed origins. The MCP SDK's own options for this
 * (allowedHosts on the transport) are deprecated in favour of middleware, and its
 * middleware is Express's; this is the same rule as a fastify hook.
 */
import type { FastifyRequest } from 'fastify';
import { ForbiddenError } from '@fairlead/platform';

export interface HostRules {
  /** `name` (any port) or `name:port`; IPv6 in brackets (`[::1]`). */
  hosts: readonly string[];
  /** Exact origins (`https://console.example`); when empty, http(s) origins of the allowed host names. */
  origins: readonly string[];
}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/** The default allow-list: loopback names, plus the listen address when it is a specific one. */
export function defaultHosts(httpHost: string): string[] {
  const wildcard = httpHost === '0.0.0.0' || httpHost === '::' || httpHost === '[::]';
  const own = httpHost.includes(':') && !httpHost.startsWith('[') ? `[${httpHost}]` : httpHost;
  return wildcard || LOOPBACK.includes(own) ? [...LOOPBACK] : [...LOOPBACK, own.toLowerCase()];
}

function parseHost(value: string): { hostname: string; host: string } | undefined {
  try {
    const url = new URL(`http://${value}`);
    // Anything beyond host[:port] (a path, credentials) is not a Host header.
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return undefined;
    return { hostname: url.hostname.toLowerCase(), host: url.host.toLowerCase() };
  } catch {
    return undefined;
  }
}

export function hostAllowed(header: string | undefined, rules: HostRules): boolean {
  const given = header ? parseHost(header) : undefined;
  if (!given) return false;
  return rules.hosts.some((entry) => {
    const allowed = entry.toLowerCase();
    return allowed === given.host || allowed === given.hostname;
  });
}

export function originAllowed(origin: string, rules: HostRules): boolean {
  if (rules.origins.length > 0) return rules.origins.includes(origin);
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return hostAllowed(url.host, rules);
  } catch {
    return false;
  }
}

/** The onRequest hook: 403 HOST_NOT_ALLOWED / ORIGIN_NOT_ALLOWED, without echoing the header. */
export function hostGuard(rules: HostRules): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    if (!hostAllowed(request.headers.host, rules)) {
      throw new ForbiddenError('This endpoint does not answer to that Host name (DNS-rebinding protection; see MCP_ALLOWED_HOSTS).', { code: 'HOST_NOT_ALLOWED' });
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !originAllowed(origin, rules)) {
      throw new ForbiddenError('Requests from that Origin are not accepted (see MCP_ALLOWED_ORIGINS).', { code: 'ORIGIN_NOT_ALLOWED' });
    }
  };
}
