/**
 * Puts authentication and authorization in front of every route under a prefix (the
 * operator API's `/api/`, ticket-workflow's `/v1/`). Each such route must declare
 * `config: { access }`; registering one without it fails at start-up, so a route can never
 * be public by omission. The check runs on `onRequest`, before the body is read or
 * validated: an anonymous caller learns nothing about a route's input. Routes outside the
 * prefix (`/healthz`, `/readyz`, `/docs`, `/metrics`) are left alone.
 * Install it after any rate limiter and before any route.
 */
import type { FastifyRequest } from 'fastify';
import type { HttpApp } from '../http/app';
import { authorize, type Access, type Principal } from './access';
import type { TokenVerifier } from './verify-token';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route (required on every route under the protected prefix). */
    access?: Access;
  }
  interface FastifyRequest {
    /** The verified caller of a protected route. */
    principal?: Principal;
  }
}

/** A registered protected route, as the app knows it (for docs and for the test that walks them all). */
export interface ProtectedRoute {
  method: string;
  url: string;
  access: Access;
}

export interface InstallAuthOptions {
  /** Every route whose URL starts with this is protected and must declare its access level (e.g. `/api/`). */
  prefix: string;
}

/** Installs the hooks; call before registering routes. Returns the live list of protected routes. */
export function installAuth(app: HttpApp, verify: TokenVerifier, options: InstallAuthOptions): ProtectedRoute[] {
  const routes: ProtectedRoute[] = [];
  app.decorateRequest('principal', undefined);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(options.prefix)) return;
    const access = route.config?.access;
    if (!access) throw new Error(`route ${String(route.method)} ${route.url} declares no access level`);
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url, access });
    route.schema = { ...route.schema, security: [{ bearerAuth: [] }] };
    // A route-level hook placed after the rate limiter's, so floods of bad tokens are limited too.
    const check = async (request: FastifyRequest): Promise<void> => {
      const principal = await verify(request.headers.authorization);
      authorize(principal, access);
      request.principal = principal;
    };
    const existing = route.onRequest;
    route.onRequest = [...(existing === undefined ? [] : [existing].flat()), check] as typeof route.onRequest;
  });
  return routes;
}

/** The principal of a protected route's request (present once the hook has passed). */
export function principalOf(request: { principal?: Principal }): Principal {
  if (!request.principal) throw new Error('no principal on a protected route: is the route under the protected prefix?');
  return request.principal;
}
