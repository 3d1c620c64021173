import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AppError,
  ConflictError,
  ForbiddenError,
  isAppError,
  NotFoundError,
  PreconditionFailedError,
  UnauthorizedError,
  ValidationError,
} from './errors';
import { toProblem } from './problem';

const ctx = { instance: '/api/v1/leads/42', requestId: 'req-1' };

describe('typed errors', () => {
  it.each([
    [new NotFoundError('lead 42 not found'), 'NotFoundError', 'NOT_FOUND', 404],
    [new ValidationError('bad', []), 'ValidationError', 'VALIDATION_FAILED', 400],
    [new ConflictError('version moved'), 'ConflictError', 'CONFLICT', 409],
    [new PreconditionFailedError('stale etag'), 'PreconditionFailedError', 'PRECONDITION_FAILED', 412],
    [new UnauthorizedError(), 'UnauthorizedError', 'UNAUTHORIZED', 401],
    [new ForbiddenError(), 'ForbiddenError', 'FORBIDDEN', 403],
  ])('%s has a name, a stable code and a status', (error, name, code, status) => {
    expect(error).toBeInstanceOf(AppError);
    expect(error).toBeInstanceOf(Error);
    expect(isAppError(error)).toBe(true);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
  });

  it('keeps the cause and lets callers refine the code', () => {
    const cause = new Error('row missing');
    const error = new NotFoundError('lead 42 not found', { code: 'LEAD_NOT_FOUND', cause, details: { lead_id: '42' } });
    expect(error.code).toBe('LEAD_NOT_FOUND');
    expect(error.cause).toBe(cause);
    expect(isAppError(new Error('plain'))).toBe(false);
    expect(isAppError({ code: 'NOT_FOUND', status: 404 })).toBe(false);
  });

  it('builds validation issues from a zod error, pointing into the request', () => {
    const schema = z.object({ consumer: z.object({ email: z.email() }), tags: z.array(z.string()) });
    const result = schema.safeParse({ consumer: { email: 'nope' }, tags: ['ok', 7] });
    if (result.success) throw new Error('expected failure');
    const error = ValidationError.fromZod(result.error, { prefix: '/body' });
    expect(error.issues).toEqual([
      { pointer: '/body/consumer/email', detail: expect.stringMatching(/email/i), code: 'invalid_format' },
      { pointer: '/body/tags/1', detail: expect.stringMatching(/string/), code: 'invalid_type' },
    ]);
    expect(error.message).toContain('/body/consumer/email');
    expect(error.cause).toBe(result.error);
  });
});

describe('toProblem (RFC 9457)', () => {
  it('maps an AppError to its status, code and message, with type, title and instance', () => {
    const p = toProblem(new ConflictError('lead 42 changed meanwhile', { details: { expected: 3, actual: 4 } }), ctx);
    expect(p.status).toBe(409);
    expect(p.internal).toBe(false);
    expect(p.body).toEqual({
      type: 'https://fairlead.dev/problems/conflict',
      title: 'Conflict',
      status: 409,
      detail: 'lead 42 changed meanwhile',
      instance: '/api/v1/leads/42',
      code: 'CONFLICT',
      request_id: 'req-1',
      details: { expected: 3, actual: 4 },
    });
  });

  it('lists validation issues in `errors`', () => {
    const issue = { pointer: '/body/lead_id', detail: 'Too small', code: 'too_small' };
    const p = toProblem(new ValidationError('Invalid lead', [issue]), ctx);
    expect(p.status).toBe(400);
    expect(p.body.code).toBe('VALIDATION_FAILED');
    expect(p.body.errors).toEqual([issue]);
  });

  it('asks for bearer credentials on 401', () => {
    const p = toProblem(new UnauthorizedError('token expired', { code: 'TOKEN_EXPIRED' }), ctx);
    expect(p.status).toBe(401);
    expect(p.headers).toEqual({ 'www-authenticate': 'Bearer' });
    expect(p.body.type).toBe('https://fairlead.dev/problems/token-expired');
  });

  it('maps framework validation errors (fastify / zod type provider) to VALIDATION_FAILED', () => {
    const fastifyError = Object.assign(new Error('body/name Required'), {
      statusCode: 400,
      code: 'FST_ERR_VALIDATION',
      validationContext: 'body',
      validation: [
        { instancePath: '/name', message: 'Invalid input: expected string, received undefined', keyword: 'invalid_type' },
        { instancePath: '/', message: 'Unrecognized key: "x"', keyword: 'unrecognized_keys' },
      ],
    });
    const p = toProblem(fastifyError, ctx);
    expect(p.status).toBe(400);
    expect(p.body.code).toBe('VALIDATION_FAILED');
    expect(p.body.errors).toEqual([
      { pointer: '/body/name', detail: 'Invalid input: expected string, received undefined', code: 'invalid_type' },
      { pointer: '/body', detail: 'Unrecognized key: "x"', code: 'unrecognized_keys' },
    ]);
  });

  it('keeps status and code of other client errors of the framework', () => {
    const p = toProblem(Object.assign(new Error('Unsupported Media Type'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), ctx);
    expect(p.status).toBe(415);
    expect(p.body.code).toBe('FST_ERR_CTP_INVALID_MEDIA_TYPE');
    expect(p.body.title).toBe('Unsupported Media Type');
    const noCode = toProblem(Object.assign(new Error('slow down'), { statusCode: 429 }), ctx);
    expect(noCode.body.code).toBe('TOO_MANY_REQUESTS');
  });

  it('turns anything else into a 500 that reveals nothing', () => {
    const secret = new Error('connect ECONNREFUSED postgres://app:pw@10.0.0.7:5432/fairlead');
    for (const thrown of [secret, 'a string', null, { statusCode: 503, message: 'upstream internals' }, Object.assign(new Error('x'), { statusCode: 500 })]) {
      const p = toProblem(thrown, ctx);
      expect(p.status).toBe(500);
      expect(p.internal).toBe(true);
      expect(p.body.code).toBe('INTERNAL');
      expect(Object.keys(p.body).sort()).toEqual(['code', 'detail', 'instance', 'request_id', 'status', 'title', 'type']);
      const text = JSON.stringify(p.body);
      expect(text).not.toMatch(/ECONNREFUSED|postgres|internals|at .*\.ts/);
    }
  });

  it('does not treat a thrown ZodError as a client error (parsing our own data is our bug)', () => {
    const result = z.number().safeParse('x');
    expect(toProblem(result.error, ctx).status).toBe(500);
  });
});
