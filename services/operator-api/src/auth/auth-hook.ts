/**
 * Puts authentication and authorization in front of every `/api/` route. Each such route
 * must declare `config: { access }`; registering one without it fails at start-up, so a
 * route can never be public by omission. The check runs on `onRequest`, before the body
 * is read or validated: an anonymous caller learns nothing about a route's input.
 * Install it after the rate limiter and before any route.
 */
import type { FastifyRequest } from 'fastify';
import type { HttpApp } from '@fairlead/platform';
import { authorize, type Access, type Principal } from './access';
import type { TokenVerifier } from './verify-token';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route (required on every /api/ route). */
    access?: Access;
  }
  interface FastifyRequest {
    /** The verified caller of an /api/ route. */
    principal?: Principal;
  }
}

/** A registered protected route, as the app knows it (for docs and for the test that walks them all). */
export interface ProtectedRoute {
  method: string;
  url: string;
  access: Access;
}

export const API_PREFIX = '/api/';

/** Installs the hooks; call before registering routes. Returns the live list of protected routes. */
export function installAuth(app: HttpApp, verify: TokenVerifier): ProtectedRoute[] {
  const routes: ProtectedRoute[] = [];
  app.decorateRequest('principal', undefined);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(API_PREFIX)) return;
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
  if (!request.principal) throw new Error('no principal on a protected route: is the route under /api/?');
  return request.principal;
}
