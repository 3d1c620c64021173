/**
 * How every service's OpenAPI document is made from its zod route schemas, so that the
 * document says what the service does on the wire:
 * - each operation has an `operationId` (given in the route schema, or derived from the
 *   method and path: `PATCH /api/v1/niches/:id` → `patchNichesById`);
 * - error answers (4xx, 5xx) are `application/problem+json`, as `sendProblem` sends them;
 * - the document names a server (the service that serves it, by default);
 * - a route whose headers schema requires `If-Match` answers 428 when it is missing
 *   (RFC 6585), not 400, so a client can tell "read first" from a malformed request.
 */
import type { SwaggerTransformObject } from '@fastify/swagger';
import type { FastifyRequest, RouteOptions } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../errors';
import { PROBLEM_CONTENT_TYPE } from '../problem';

export interface OpenApiServer {
  url: string;
  description?: string;
}

/** The server of a document served by the service itself: URLs resolve against where /docs/json came from. */
export const SELF_SERVER: OpenApiServer = { url: '/', description: 'the service that serves this document' };

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

const pascal = (word: string): string =>
  word
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

/**
 * The operationId of a route without one: the method, then the path's segments with the
 * `api` and version prefixes left out and each parameter as `By<Name>`.
 * `GET /api/v1/leads/:id/decision` → `getLeadsByIdDecision`.
 */
export function deriveOperationId(method: string, url: string): string {
  const segments = url
    .split('/')
    .filter((s) => s !== '' && s !== 'api' && !/^v\d+$/.test(s))
    .map((s) => (s.startsWith(':') ? `By${pascal(s.slice(1))}` : pascal(s)));
  return method.toLowerCase() + (segments.join('') || 'Root');
}

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];

/** Per-route transform for @fastify/swagger: zod → JSON Schema, then an operationId when the route has none. */
export function openApiRouteTransform(input: TransformInput): ReturnType<typeof jsonSchemaTransform> {
  const out = jsonSchemaTransform(input);
  const schema = out.schema as Record<string, unknown> | undefined;
  if (schema && !schema.hide && typeof schema.operationId !== 'string') {
    const method = Array.isArray(input.route.method) ? input.route.method[0] : input.route.method;
    schema.operationId = deriveOperationId(String(method), input.url);
  }
  return out;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Error answers are sent as problem+json: say so in every 4xx/5xx response of the document. */
function problemContent(paths: unknown): void {
  if (!isObject(paths)) return;
  for (const item of Object.values(paths)) {
    if (!isObject(item)) continue;
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method) || !isObject(operation) || !isObject(operation.responses)) continue;
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!/^[45]/.test(status) || !isObject(response) || !isObject(response.content)) continue;
        const json = response.content['application/json'];
        if (json === undefined || response.content[PROBLEM_CONTENT_TYPE] !== undefined) continue;
        const { 'application/json': _json, ...rest } = response.content;
        response.content = { [PROBLEM_CONTENT_TYPE]: json, ...rest };
      }
    }
  }
}

/** Every tag the operations use, in order of first use (the document declares them). */
function usedTags(paths: unknown): string[] {
  const seen = new Set<string>();
  if (!isObject(paths)) return [];
  for (const item of Object.values(paths)) {
    if (!isObject(item)) continue;
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method) || !isObject(operation) || !Array.isArray(operation.tags)) continue;
      for (const tag of operation.tags) if (typeof tag === 'string') seen.add(tag);
    }
  }
  return [...seen];
}

/** Whole-document transform for @fastify/swagger: servers, problem+json error content, the tags used. */
export function openApiDocumentTransform(servers: readonly OpenApiServer[]): SwaggerTransformObject {
  return (input) => {
    // Only OpenAPI documents are made here (createHttpApp asks for 3.1), never Swagger 2.
    const doc = { ...('openapiObject' in input ? input.openapiObject : input.swaggerObject) } as Json;
    doc.servers = servers.map((s) => ({ ...s }));
    problemContent(doc.paths);
    const tags = usedTags(doc.paths);
    if (tags.length > 0) doc.tags = tags.map((name) => ({ name }));
    return doc;
  };
}

/** Response headers in the OpenAPI document of a response schema (`ETag` of a versioned resource, …). */
export function withResponseHeaders<T extends z.ZodType>(schema: T, headers: Record<string, { description: string; schema?: Json }>): T {
  const documented = Object.fromEntries(Object.entries(headers).map(([name, h]) => [name, { type: 'string', ...h.schema, description: h.description }]));
  // @fastify/swagger moves a response schema's `headers` keyword into the response's headers.
  return schema.meta({ headers: documented }) as T;
}

const IF_MATCH = 'if-match';

/** Whether a route's zod headers schema declares `If-Match` required. */
function requiresIfMatch(headers: unknown): boolean {
  if (!(headers instanceof z.ZodObject)) return false;
  const field = (headers.shape as Record<string, z.ZodType>)[IF_MATCH];
  return field !== undefined && !field.safeParse(undefined).success;
}

/**
 * For an `onRoute` hook: a route that requires `If-Match` answers 428 PRECONDITION_REQUIRED
 * when it is absent, before schema validation would answer 400.
 */
export function requireDeclaredIfMatch(route: RouteOptions): void {
  if (!requiresIfMatch(route.schema?.headers)) return;
  const check = async (request: FastifyRequest): Promise<void> => {
    const value = request.headers[IF_MATCH];
    if (value === undefined || (typeof value === 'string' && value.trim() === '')) {
      throw new AppError('PRECONDITION_REQUIRED', 'Updates need an If-Match header with the ETag of the resource as you read it.', { status: 428 });
    }
  };
  const existing = route.preValidation;
  route.preValidation = existing === undefined ? [check] : [check, ...(Array.isArray(existing) ? existing : [existing])];
}
