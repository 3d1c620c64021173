/**
 * The answer when no route matches: 405 with an `Allow` header when the path exists for
 * other methods, else 404. Neither repeats the path or method sent (a client knows what
 * it asked; an answer that reflects input is one more place to smuggle it through).
 */
import { AppError, NotFoundError } from '../errors';
import type { HttpApp } from './app';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export function routeNotFound(app: HttpApp, method: string, path: string): AppError {
  const allowed = METHODS.filter((m) => m !== method && app.findRoute({ method: m, url: path }) !== null);
  if (allowed.length > 0) {
    return new AppError('METHOD_NOT_ALLOWED', 'This method is not allowed on this path; the Allow header lists those that are.', { status: 405, headers: { allow: allowed.join(', ') } });
  }
  return new NotFoundError('No route matches this method and path.', { code: 'ROUTE_NOT_FOUND' });
}
