import type { z } from 'zod';

/** One problem with an input, addressed by a JSON Pointer into it. */
export interface ValidationIssue {
  /** JSON Pointer to the offending value, e.g. `/body/consumer/email` ('' for the whole input). */
  pointer: string;
  /** What is wrong, readable by a person. */
  detail: string;
  /** Stable machine code of the issue kind (zod's issue code, e.g. `invalid_type`). */
  code: string;
}

export interface AppErrorOptions {
  /** HTTP status this error maps to (500 unless a subclass says otherwise). */
  status?: number;
  /** The underlying error; logged, never sent to clients. */
  cause?: unknown;
  /** Extra facts safe to show a client (ids, versions); sent as `details`. */
  details?: Record<string, unknown>;
  /** Response headers the answer needs (`Allow` on a 405, `Retry-After` on a 503). */
  headers?: Record<string, string>;
}

/** Options of the subclasses, which fix the status but let callers refine the code. */
export interface AppErrorSubclassOptions extends Omit<AppErrorOptions, 'status'> {
  /** A more specific stable code than the default of the subclass (e.g. `LEAD_NOT_FOUND`). */
  code?: string;
}

/**
 * The base of every error the system raises on purpose. `code` is stable and
 * machine-readable (clients and tests match on it); `message` is for people.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? 500;
    this.details = options.details;
    this.headers = options.headers;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

export class NotFoundError extends AppError {
  constructor(message: string, options: AppErrorSubclassOptions = {}) {
    super(options.code ?? 'NOT_FOUND', message, { ...options, status: 404 });
    this.name = 'NotFoundError';
  }
}

/** The input broke its contract; `issues` says where and how. */
export class ValidationError extends AppError {
  readonly issues: readonly ValidationIssue[];

  constructor(message: string, issues: readonly ValidationIssue[], options: AppErrorSubclassOptions = {}) {
    super(options.code ?? 'VALIDATION_FAILED', message, { ...options, status: 400 });
    this.name = 'ValidationError';
    this.issues = Object.freeze([...issues]);
  }

  /**
   * From a zod error. `prefix` is the pointer of the validated value inside the request
   * (e.g. `/body`), so issues point into the request as a client sent it.
   */
  static fromZod(error: z.ZodError, options: AppErrorSubclassOptions & { prefix?: string; message?: string } = {}): ValidationError {
    const { prefix = '', message, ...rest } = options;
    const issues = error.issues.map((issue) => ({
      pointer: prefix + toJsonPointer(issue.path),
      detail: issue.message,
      code: issue.code,
    }));
    return new ValidationError(message ?? describeIssues(issues), issues, { cause: error, ...rest });
  }
}

/** The request conflicts with the current state (e.g. a concurrent change, a duplicate). */
export class ConflictError extends AppError {
  constructor(message: string, options: AppErrorSubclassOptions = {}) {
    super(options.code ?? 'CONFLICT', message, { ...options, status: 409 });
    this.name = 'ConflictError';
  }
}

/** A precondition (If-Match / ETag) no longer holds. */
export class PreconditionFailedError extends AppError {
  constructor(message: string, options: AppErrorSubclassOptions = {}) {
    super(options.code ?? 'PRECONDITION_FAILED', message, { ...options, status: 412 });
    this.name = 'PreconditionFailedError';
  }
}

/** No valid credentials were presented. */
export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication is required.', options: AppErrorSubclassOptions = {}) {
    super(options.code ?? 'UNAUTHORIZED', message, { ...options, status: 401 });
    this.name = 'UnauthorizedError';
  }
}

/** Valid credentials, but not allowed to do this. */
export class ForbiddenError extends AppError {
  constructor(message = 'Not allowed.', options: AppErrorSubclassOptions = {}) {
    super(options.code ?? 'FORBIDDEN', message, { ...options, status: 403 });
    this.name = 'ForbiddenError';
  }
}

/** RFC 6901 JSON Pointer of a zod issue path. */
export function toJsonPointer(path: ReadonlyArray<PropertyKey>): string {
  return path.map((key) => `/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

function describeIssues(issues: readonly ValidationIssue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.pointer || '(root)'}: ${i.detail}`);
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  return `Invalid input: ${shown.join('; ')}${more}`;
}
