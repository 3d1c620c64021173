/**
 * Hostile input refused before any route sees it, on every route of every service: JSON
 * bodies nested deeper than a bound (a deeply nested value later overflows the stack of
 * whatever serializes it recursively, e.g. the PostgreSQL driver), and NUL characters or
 * unpaired surrogates in any string or key of the body, the query or the path parameters
 * (PostgreSQL refuses them, mid-transaction, with its own message). Each is a 400
 * problem+json naming where the problem is, never what was sent. A route's own zod
 * schema still validates everything else; this guard only makes sure that no route can
 * forget these two.
 *
 * A route that checks its body itself, to record what it refuses (intake's approval, which
 * records every rejected lead with its reasons, as it does for NATS), declares
 * `config: { ownBodyChecks: true }`; its query and parameters are still checked here.
 * fastify's own JSON parser (secure-json-parse: no `__proto__` keys) is iterative, as is
 * the walk, so a body nested a million levels deep is an answer, not a stack overflow.
 */
import { findJsonProblems, type JsonProblem } from '@fairlead/contracts';
import { toJsonPointer, ValidationError } from '../errors';
import type { HttpApp } from './app';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route refuses unsafe text and over-deep bodies itself (and records what it refuses). */
    ownBodyChecks?: boolean;
  }
}

/** Default bound of a JSON body's nesting (the body object itself is level 1). */
export const DEFAULT_MAX_BODY_DEPTH = 32;

function refusal(part: 'body' | 'querystring' | 'params', problems: JsonProblem[]): ValidationError {
  const tooDeep = problems.some((p) => p.kind === 'too_deep');
  const issues = problems.map((p) => ({ pointer: `/${part}${toJsonPointer(p.path.map((k) => (typeof k === 'string' && k.length > 64 ? `${k.slice(0, 64)}…` : k)))}`, detail: p.message, code: p.kind }));
  const what = tooDeep ? 'is nested too deeply' : 'contains NUL characters or unpaired UTF-16 surrogates';
  return new ValidationError(`The request ${part === 'querystring' ? 'query' : part} ${what}.`, issues, { code: tooDeep ? 'BODY_TOO_DEEP' : 'UNSAFE_TEXT' });
}

/** Checks the body, the query and the path parameters of every request before validation. */
export function installInputGuard(app: HttpApp, options: { maxBodyDepth?: number } = {}): void {
  const maxDepth = options.maxBodyDepth ?? DEFAULT_MAX_BODY_DEPTH;
  app.addHook('preValidation', async (request) => {
    for (const part of ['params', 'querystring'] as const) {
      const problems = findJsonProblems(part === 'params' ? request.params : request.query, { maxDepth: 4 });
      if (problems.length > 0) throw refusal(part, problems);
    }
    if (request.body === undefined || request.routeOptions.config.ownBodyChecks === true) return;
    const problems = findJsonProblems(request.body, { maxDepth });
    if (problems.length > 0) throw refusal('body', problems);
  });
}
