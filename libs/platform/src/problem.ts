/**
 * The one mapping from errors to RFC 9457 problem details (application/problem+json).
 * Every HTTP error answer of every service goes through `toProblem`.
 */
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { isAppError, ValidationError, type ValidationIssue } from './errors';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const PROBLEM_TYPE_BASE = 'https://fairlead.dev/problems/';

/** RFC 9457 problem details, with Fairlead's extension members. */
export interface ProblemDetails {
  /** URI naming the kind of problem; one per `code`. */
  type: string;
  /** Short summary of the kind (the HTTP reason phrase). */
  title: string;
  status: number;
  /** What went wrong in this occurrence, for people. */
  detail: string;
  /** The request path this occurrence belongs to. */
  instance?: string;
  /** Stable machine-readable code (e.g. `NOT_FOUND`, `VALIDATION_FAILED`). */
  code: string;
  /** The request id, to find this occurrence in the logs. */
  request_id?: string;
  /** For validation problems: every issue found. */
  errors?: ValidationIssue[];
  /** Extra facts the raising code chose to share. */
  details?: Record<string, unknown>;
}

/** zod schema of a problem body, for documenting error responses in OpenAPI. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    code: z.string(),
    request_id: z.string().optional(),
    errors: z.array(z.object({ pointer: z.string(), detail: z.string(), code: z.string() })).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .describe('RFC 9457 problem details');

export interface ProblemContext {
  /** The request path (becomes `instance`). */
  instance?: string;
  requestId?: string;
}

export interface ProblemAnswer {
  status: number;
  /** Headers the answer needs besides the content type (e.g. WWW-Authenticate on 401). */
  headers: Record<string, string>;
  body: ProblemDetails;
  /** True when the error is a fault of ours (5xx): log it with its stack. */
  internal: boolean;
}

export function problemType(code: string): string {
  return PROBLEM_TYPE_BASE + code.toLowerCase().replaceAll('_', '-');
}

/** Upper snake case of the reason phrase: 404 → `NOT_FOUND`. */
function codeOfStatus(status: number): string {
  return (STATUS_CODES[status] ?? 'Error').toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_|_$/g, '');
}

function answer(status: number, code: string, detail: string, context: ProblemContext, extra: Partial<ProblemDetails> = {}): ProblemAnswer {
  const body: ProblemDetails = {
    type: problemType(code),
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...(context.instance === undefined ? {} : { instance: context.instance }),
    code,
    ...(context.requestId === undefined ? {} : { request_id: context.requestId }),
    ...extra,
  };
  const headers: Record<string, string> = status === 401 ? { 'www-authenticate': 'Bearer' } : {};
  return { status, headers, body, internal: status >= 500 };
}

interface FrameworkValidationEntry {
  instancePath?: string;
  message?: string;
  keyword?: string;
}

/** The shape fastify (and its plugins) give client errors: a 4xx `statusCode`. */
function clientStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('statusCode' in error)) return undefined;
  const status = (error as { statusCode: unknown }).statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500 ? status : undefined;
}

function validationIssuesOf(error: object): ValidationIssue[] | undefined {
  if (!('validation' in error) || !Array.isArray(error.validation)) return undefined;
  const context = 'validationContext' in error && typeof error.validationContext === 'string' ? `/${error.validationContext}` : '';
  return (error.validation as FrameworkValidationEntry[]).map((entry) => {
    const path = entry.instancePath === '/' ? '' : (entry.instancePath ?? '');
    return { pointer: context + path, detail: entry.message ?? 'is invalid', code: entry.keyword ?? 'invalid' };
  });
}

/**
 * Maps any thrown value to a problem answer. AppErrors keep their status, code and
 * message; client errors of the framework (4xx with `statusCode`, including schema
 * validation) keep theirs; anything else is a 500 that reveals nothing about internals.
 */
export function toProblem(error: unknown, context: ProblemContext = {}): ProblemAnswer {
  if (isAppError(error)) {
    const extra: Partial<ProblemDetails> = {};
    if (error instanceof ValidationError) extra.errors = [...error.issues];
    if (error.details !== undefined) extra.details = { ...error.details };
    return answer(error.status, error.code, error.message, context, extra);
  }
  const clientStatus = clientStatusOf(error);
  if (clientStatus !== undefined) {
    const err = error as { code?: unknown; message?: unknown };
    const issues = validationIssuesOf(error as object);
    if (issues !== undefined) {
      const detail = `Invalid request: ${issues.map((i) => `${i.pointer || '(root)'}: ${i.detail}`).join('; ')}`;
      return answer(400, 'VALIDATION_FAILED', detail, context, { errors: issues });
    }
    const code = typeof err.code === 'string' && err.code !== '' ? err.code : codeOfStatus(clientStatus);
    const detail = typeof err.message === 'string' && err.message !== '' ? err.message : (STATUS_CODES[clientStatus] ?? 'Error');
    return answer(clientStatus, code, detail, context);
  }
  return answer(500, 'INTERNAL', 'An unexpected error occurred. The request id identifies it in the service logs.', context);
}
