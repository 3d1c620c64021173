import { z } from 'zod';
import { AppError, ValidationError, type HttpApp } from '@fairlead/platform';
import type { WorkflowContext } from '../application/context';
import { OPERATIONS, type Operation } from '../application/operations';
import { assertAcceptableInput } from '../application/input-guard';
import { isTicketWorkflowError, type ErrorKind } from '../domain/index';

const STATUS: Record<ErrorKind, number> = { invalid: 400, forbidden: 403, not_found: 404, conflict: 409 };

/** Query-string values that schemas expect as numbers or booleans. */
const NUMERIC_QUERY = new Set(['limit']);
const BOOLEAN_QUERY = new Set(['processed', 'include_all', 'include_taken', 'include_deleted']);

/**
 * Every operation as a REST route under `prefix` (operators' API; each declares the
 * operation's access level for the platform's auth hook), documented in the OpenAPI of the
 * app. Before any schema sees it, the raw body, query and path are checked for what cannot
 * be stored (NUL, lone surrogates, over-deep nesting: 400). Input is path parameters, query
 * string and JSON body merged, then validated by the operation's schema; domain refusals
 * become problem+json answers with their stable code (400 invalid, 403 forbidden, 404 not
 * found, 409 conflict).
 */
export function registerRestRoutes(app: HttpApp, ctx: WorkflowContext, options: { prefix?: string } = {}): void {
  const prefix = options.prefix ?? '/v1';
  for (const operation of OPERATIONS) {
    const params = [...operation.rest.path.matchAll(/:([a-z_]+)/g)].map((m) => m[1]!);
    const hasBody = operation.rest.method === 'POST' || operation.rest.method === 'PUT';
    app.route({
      method: operation.rest.method,
      url: `${prefix}${operation.rest.path}`,
      config: { access: operation.access },
      // preValidation: after parsing, before the body schema strips unknown fields.
      preValidation: async (request) => guard(request),
      schema: {
        operationId: operation.name,
        description: operation.description,
        tags: [tagOf(operation)],
        ...(params.length > 0 ? { params: z.object(Object.fromEntries(params.map((p) => [p, z.string()]))) } : {}),
        ...(hasBody ? { body: bodySchema(operation, params) } : {}),
      },
      handler: async (request, reply) => {
        const input = operation.input.safeParse({
          ...coerceQuery(request.query),
          ...(hasBody && isRecord(request.body) ? request.body : {}),
          ...(request.params as Record<string, string>),
        });
        if (!input.success) throw ValidationError.fromZod(input.error);
        try {
          const result = await operation.run(ctx, input.data);
          return reply.code(operation.rest.status ?? 200).send(result);
        } catch (error) {
          if (isTicketWorkflowError(error)) throw new AppError(error.code, error.message, { status: STATUS[error.kind], cause: error });
          throw error;
        }
      },
    });
  }
}

/** The body schema for the docs and the first validation: the input without its path parameters. */
function bodySchema(operation: Operation, params: string[]): z.ZodType {
  if (params.length === 0) return operation.input;
  const object = operation.input as unknown as z.ZodObject;
  return object.omit(Object.fromEntries(params.map((p) => [p, true])) as never);
}

function coerceQuery(query: unknown): Record<string, unknown> {
  if (!isRecord(query)) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (NUMERIC_QUERY.has(key) && typeof value === 'string' && /^\d+$/.test(value)) out[key] = Number(value);
    else if (BOOLEAN_QUERY.has(key) && (value === 'true' || value === 'false')) out[key] = value === 'true';
    else out[key] = value;
  }
  return out;
}

/** Refuses unstorable input in the body, the query string and the path parameters (400, naming the field). */
export async function guard(request: { body?: unknown; query?: unknown; params?: unknown }): Promise<void> {
  try {
    assertAcceptableInput(request.params, 'path');
    assertAcceptableInput(request.query, 'query');
    assertAcceptableInput(request.body, 'body');
  } catch (error) {
    if (isTicketWorkflowError(error)) throw new AppError(error.code, error.message, { status: STATUS[error.kind], cause: error });
    throw error;
  }
}

const tagOf = (operation: Operation): string => operation.rest.path.split('/')[1] ?? 'tickets';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
