/**
 * The one mapping from errors to RFC 9457 problem details (application/problem+json).
 * Every HTTP error answer of every service goes through `toProblem`.
 */
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { isDatabaseUnavailable } from './dependency-errors';
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
  /** The route this occurrence belongs to (its pattern, e.g. `/v1/leads/:id`; absent when no route matched). */
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
  /** The matched route (becomes `instance`). */
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

/** Seconds a client is asked to wait before retrying after a 503 of an unreachable database. */
const RETRY_AFTER_SECONDS = 5;

/**
 * What the framework's client errors say, in our words: fastify's own messages repeat the
 * URL, the content type or a piece of the body sent, and an answer must not echo input.
 */
const FRAMEWORK_DETAILS: Readonly<Record<string, string>> = {
  FST_ERR_BAD_URL: 'The URL is not validly percent-encoded.',
  FST_ERR_MAX_PARAM_LENGTH: 'A path parameter is longer than any this API accepts.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'This content type is not accepted here; send application/json.',
  FST_ERR_CTP_INVALID_TYPE: 'The Content-Type header is malformed.',
  FST_ERR_CTP_EMPTY_TYPE: 'The Content-Type header is empty.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The body is empty but the Content-Type says JSON.',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The body is not valid JSON.',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is larger than this API accepts.',
  FST_ERR_CTP_INSTANCE_ALREADY_STARTED: 'The request body could not be read.',
};

function answer(status: number, code: string, detail: string, context: ProblemContext, extra: Partial<ProblemDetails> = {}, extraHeaders: Record<string, string> = {}): ProblemAnswer {
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
  const headers: Record<string, string> = { ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}), ...extraHeaders };
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
 * Maps any thrown value to a problem answer. AppErrors keep their status, code, message
 * and headers; client errors of the framework (4xx with `statusCode`, including schema
 * validation) keep their status and code, with a detail of ours; a database that cannot be
 * reached is a 503 with Retry-After; anything else is a 500 that reveals nothing about
 * internals.
 */
export function toProblem(error: unknown, context: ProblemContext = {}): ProblemAnswer {
  if (isAppError(error)) {
    const extra: Partial<ProblemDetails> = {};
    if (error instanceof ValidationError) extra.errors = [...error.issues];
    if (error.details !== undefined) extra.details = { ...error.details };
    return answer(error.status, error.code, error.message, context, extra, error.headers ? { ...error.headers } : {});
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
    return answer(clientStatus, code, FRAMEWORK_DETAILS[code] ?? `${STATUS_CODES[clientStatus] ?? 'Error'}.`, context);
  }
  if (isDatabaseUnavailable(error)) {
    return answer(503, 'DATABASE_UNAVAILABLE', 'The database cannot be reached right now. Try again later.', context, {}, {
      'retry-after': String(RETRY_AFTER_SECONDS),
    });
  }
  return answer(500, 'INTERNAL', 'An unexpected error occurred. The request id identifies it in the service logs.', context);
}
