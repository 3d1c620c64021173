/**
 * Hostile input refused before any route sees it, on every route of every service: JSON
 * bodies nested deeper than a bound (a deeply nested value later overflows the stack of
 * whatever serializes it recursively, e.g. the PostgreSQL driver), and NUL characters or
 * unpaired surrogates in any string or key of the body, the query or the path parameters
 * (PostgreSQL refuses them, mid-transaction, with its own message). Each is a 400
 * problem+json naming where the problem is, never what was sent. A route's own zod
 * schema still validates everything else; this guard only makes sure that no route can
 * forget these two.
 */
import { findJsonProblems, type JsonProblem } from '@fairlead/contracts';
import { toJsonPointer, ValidationError } from '../errors';
import type { HttpApp } from './app';

/** Default bound of a JSON body's nesting (the body object itself is level 1). */
export const DEFAULT_MAX_BODY_DEPTH = 32;

function refusal(part: 'body' | 'querystring' | 'params', problems: JsonProblem[]): ValidationError {
  const tooDeep = problems.some((p) => p.kind === 'too_deep');
  const issues = problems.map((p) => ({ pointer: `/${part}${toJsonPointer(p.path.map((k) => (typeof k === 'string' && k.length > 64 ? `${k.slice(0, 64)}…` : k)))}`, detail: p.message, code: p.kind }));
  const what = tooDeep ? 'is nested too deeply' : 'contains NUL characters or unpaired UTF-16 surrogates';
  return new ValidationError(`The request ${part === 'querystring' ? 'query' : part} ${what}.`, issues, { code: tooDeep ? 'BODY_TOO_DEEP' : 'UNSAFE_TEXT' });
}

/**
 * Replaces fastify's JSON parser with one that also bounds nesting and refuses unsafe text,
 * and checks the query and path parameters of every request before validation.
 */
export function installInputGuard(app: HttpApp, options: { maxBodyDepth?: number } = {}): void {
  const maxDepth = options.maxBodyDepth ?? DEFAULT_MAX_BODY_DEPTH;
  // fastify's own parser (secure-json-parse: refuses __proto__ keys) does the parsing; it is iterative, as is the walk.
  const parseJson = app.getDefaultJsonParser('error', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, body as string, (error: Error | null, value?: unknown) => {
      if (error) return done(error, undefined);
      const problems = findJsonProblems(value, { maxDepth });
      if (problems.length > 0) return done(refusal('body', problems), undefined);
      done(null, value);
    });
  });
  app.addHook('preValidation', async (request) => {
    for (const part of ['params', 'querystring'] as const) {
      const value = part === 'params' ? request.params : request.query;
      const problems = findJsonProblems(value, { maxDepth: 4 });
      if (problems.length > 0) throw refusal(part, problems);
    }
    // Bodies of other content types (text/plain) arrive as strings.
    if (typeof request.body === 'string') {
      const problems = findJsonProblems(request.body);
      if (problems.length > 0) throw refusal('body', problems);
    }
  });
}
