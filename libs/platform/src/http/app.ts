import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { isResponseSerializationError, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, isAppError } from '../errors';
import type { Logger } from '../logger';
import { PROBLEM_CONTENT_TYPE, ProblemSchema, toProblem } from '../problem';
import { applyHygieneHeaders, installHygiene } from './hygiene';
import { installInputGuard } from './input-guard';
import { openApiDocumentTransform, openApiRouteTransform, requireDeclaredIfMatch, SELF_SERVER, type OpenApiServer } from './openapi';
import { runReadinessChecks, type ReadinessCheck } from './readiness';
import { routeNotFound } from './router-errors';

/** A fastify instance whose routes take zod schemas (validation, serialization, OpenAPI). */
export type HttpApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

export interface HttpAppOptions {
  logger: Logger;
  serviceName: string;
  /** Dependencies `/readyz` checks (see postgresReadiness, natsReadiness). */
  readinessChecks?: readonly ReadinessCheck[];
  /** Upper bound of each readiness check. */
  readinessTimeoutMs?: number;
  openapi: {
    title: string;
    version: string;
    description?: string;
    /** Declare the `bearerAuth` (JWT) security scheme for routes to reference. */
    bearerAuth?: boolean;
    /** Servers the document names (default: the service that serves it, `/`). */
    servers?: readonly OpenApiServer[];
    /** Declare the `apiKeyAuth` (X-Api-Key header) security scheme of upstream systems. */
    apiKeyAuth?: boolean;
  };
  /** Trust X-Forwarded-* headers (behind a reverse proxy). */
  trustProxy?: boolean;
  /** Largest accepted request body in bytes (fastify's default is 1 MiB). */
  bodyLimit?: number;
  /** Deepest accepted nesting of a JSON body (default 32); deeper is a 400. */
  maxBodyDepth?: number;
  /** Origins whose browser pages may call this service (CORS); none by default. */
  corsOrigins?: readonly string[];
}

const PROBE_PATHS = new Set(['/healthz', '/readyz']);
// An incoming X-Request-Id is kept only when it cannot smuggle anything into logs.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// Longer than any id the services use (128 characters); a longer path parameter is a 414.
const MAX_PARAM_LENGTH = 200;

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * Sends the problem+json answer for an error; the single exit for every HTTP error. The
 * `instance` is the matched route's pattern (`/v1/leads/:id/distribute`), never the URL as
 * sent, so that no problem echoes what a client put into the path.
 */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const route = request.routeOptions?.url;
  const problem = toProblem(error, { ...(route ? { instance: route } : {}), requestId: request.id });
  if (problem.internal && !isAppError(error)) {
    // A response that breaks its own schema is our bug; the zod issues say which field.
    const issues = typeof error === 'object' && error !== null && isResponseSerializationError(error) ? error.cause.issues : undefined;
    request.log.error({ err: error, ...(issues ? { issues } : {}) }, 'request failed');
  } else if (problem.internal) {
    request.log.warn({ code: problem.body.code, detail: problem.body.detail }, 'request failed');
  } else {
    request.log.debug({ code: problem.body.code, status: problem.status }, 'request rejected');
  }
  return reply.code(problem.status).headers(problem.headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem.body));
}

/**
 * The HTTP app every service starts from: zod schemas for validation, serialization and
 * OpenAPI (served at /docs, JSON at /docs/json), `/healthz` and `/readyz`, request ids
 * (X-Request-Id, kept from the caller when well-formed), problem+json for every error
 * (schema validation, 404, 405, a badly encoded URL, a path parameter too long, a body
 * too large or too deep, text PostgreSQL cannot hold), security headers, no CORS unless
 * configured, and `cache-control: no-store`. Register routes after awaiting it.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const checks = options.readinessChecks ?? [];
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 2_000;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Probes come every few seconds; logging each would drown the useful lines.
    logController: new LogController({ disableRequestLogging: (req) => PROBE_PATHS.has(pathOf(req.url)) }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    trustProxy: options.trustProxy ?? false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors of the router itself (a badly encoded URL, a parameter over MAX_PARAM_LENGTH): problem+json too.
    frameworkErrors: (error, request, reply) => {
      // No hook runs for these: set what the hooks would have.
      reply.header('x-request-id', request.id);
      applyHygieneHeaders(request, reply);
      return sendProblem(request, reply, error);
    },
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error, request, reply) => sendProblem(request, reply, error));
  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, routeNotFound(app, request.method, pathOf(request.url))));
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Before any route: a route declaring If-Match required answers 428 when it is missing.
  app.addHook('onRoute', requireDeclaredIfMatch);
  await installHygiene(app, { ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}) });
  installInputGuard(app, { ...(options.maxBodyDepth === undefined ? {} : { maxBodyDepth: options.maxBodyDepth }) });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: options.openapi.title,
        version: options.openapi.version,
        ...(options.openapi.description === undefined ? {} : { description: options.openapi.description }),
        license: { name: 'MIT', identifier: 'MIT' },
      },
      ...(options.openapi.bearerAuth || options.openapi.apiKeyAuth
        ? {
            components: {
              securitySchemes: {
                ...(options.openapi.bearerAuth ? { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } : {}),
                ...(options.openapi.apiKeyAuth ? { apiKeyAuth: { type: 'apiKey', in: 'header', name: 'X-Api-Key' } } : {}),
              },
            },
          }
        : {}),
    },
    transform: openApiRouteTransform,
    transformObject: openApiDocumentTransform(options.openapi.servers ?? [SELF_SERVER]),
  });
  // The UI sets its own content security policy (scripts and styles of its own), in place of the API's.
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });

  const tags = ['operations'];
  app.get(
    '/healthz',
    { schema: { tags, summary: 'Liveness: the process answers', response: { 200: z.object({ status: z.literal('ok'), service: z.string() }) } } },
    async () => ({ status: 'ok' as const, service: options.serviceName }),
  );

  const Check = z.object({ status: z.enum(['up', 'down']), duration_ms: z.number(), error: z.string().optional() });
  const readySchema = {
    tags,
    summary: 'Readiness: every dependency (PostgreSQL, NATS) answers',
    response: { 200: z.object({ status: z.literal('ready'), service: z.string(), checks: z.record(z.string(), Check) }), 503: ProblemSchema.describe('a dependency is down (details.checks says which)') },
  };
  app.get('/readyz', { schema: readySchema }, async (request, reply) => {
    const result = await runReadinessChecks(checks, readinessTimeoutMs);
    if (result.ready) return { status: 'ready' as const, service: options.serviceName, checks: result.checks };
    const down = Object.entries(result.checks)
      .filter(([, r]) => r.status === 'down')
      .map(([name]) => name);
    return sendProblem(
      request,
      reply,
      new AppError('NOT_READY', `Not ready: ${down.join(', ')} down.`, { status: 503, details: { service: options.serviceName, checks: result.checks } }),
    );
  });

  return app;
}

/** Starts listening; returns the address (with the real port when `port` is 0). */
export async function listen(app: HttpApp, { host, port }: { host: string; port: number }): Promise<string> {
  return app.listen({ host, port });
}
