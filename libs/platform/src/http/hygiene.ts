/**
 * The response headers every service sends: security headers (@fastify/helmet, with a
 * content security policy that allows nothing, as fits a JSON API; /docs sets its own),
 * an explicit CORS policy (none unless origins are listed: a browser page of another
 * origin then cannot read any answer), and `cache-control: no-store` on every answer that
 * does not say otherwise, so no proxy or browser keeps an authenticated answer.
 */
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import type { FastifyReply, FastifyRequest } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { HttpApp } from './app';

const HELMET_OPTIONS = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
  // Cross-origin isolation headers are for pages, and would only get in the way of /docs.
  crossOriginEmbedderPolicy: false,
} satisfies HelmetOptions;

const setSecurityHeaders = helmet(HELMET_OPTIONS);

/**
 * The same headers on an answer no hook runs for: the router's own errors (a badly encoded
 * URL, a parameter too long) are answered before any route, so before helmet's hook.
 */
export function applyHygieneHeaders(request: FastifyRequest, reply: FastifyReply): void {
  setSecurityHeaders(request.raw, reply.raw, () => undefined);
  reply.header('cache-control', 'no-store');
}

export interface HygieneOptions {
  /** Origins (`https://ops.example.com`) whose browser pages may call the API; none by default. */
  corsOrigins?: readonly string[];
}

export async function installHygiene(app: HttpApp, options: HygieneOptions = {}): Promise<void> {
  await app.register(fastifyHelmet, { global: true, ...HELMET_OPTIONS });
  const origins = options.corsOrigins ?? [];
  if (origins.length > 0) {
    await app.register(fastifyCors, {
      origin: [...origins],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'if-match', 'idempotency-key', 'x-request-id', 'x-api-key', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id'],
      exposedHeaders: ['etag', 'location', 'retry-after', 'x-request-id', 'mcp-session-id'],
      credentials: false,
      maxAge: 600,
    });
  }
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
}
