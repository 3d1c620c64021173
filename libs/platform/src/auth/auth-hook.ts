/**
 * Puts authentication and authorization in front of every route under a prefix (the
 * operator API's `/api/`, ticket-workflow's, intake's and notification's `/v1/`). Each such
 * route must declare `config: { access }`; registering one without it fails at start-up, so
 * a route can never be public by omission. `read`, `operate` and `admin` need an operator
 * JWT (see access.ts); `upstream` needs an upstream system's API key (X-Api-Key);
 * `public` is the explicit choice of no credentials (counters that reveal nothing). The
 * check runs on `onRequest`, before the body is read or validated: an anonymous caller
 * learns nothing about a route's input. Routes outside the prefix (`/healthz`, `/readyz`,
 * `/docs`, `/metrics`) are left alone. The OpenAPI document names each route's scheme.
 * Install it after any rate limiter and before any route.
 */
import type { FastifyRequest } from 'fastify';
import type { HttpApp } from '../http/app';
import { authorize, type Access, type Principal } from './access';
import { API_KEY_HEADER, type ApiKeyVerifier } from './api-keys';
import type { TokenVerifier } from './verify-token';

/** What a route under the protected prefix declares: an operator access level, an upstream API key, or explicitly none. */
export type RouteAccess = Access | 'upstream' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route (required on every route under the protected prefix). */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The verified caller of a protected route. */
    principal?: Principal;
  }
}

/** A registered route behind an operator JWT, as the app knows it (for docs and for the test that walks them all). */
export interface ProtectedRoute {
  method: string;
  url: string;
  access: Access;
}

export interface InstallAuthOptions {
  /** Every route whose URL starts with this is protected and must declare its access level (e.g. `/api/`). */
  prefix: string;
  /** Verifies the X-Api-Key of `upstream` routes (declare `apiKeyAuth` in createHttpApp's openapi). */
  apiKeys?: ApiKeyVerifier;
}

/** Installs the hooks; call before registering routes. Returns the live list of the routes behind an operator JWT. */
export function installAuth(app: HttpApp, verify: TokenVerifier, options: InstallAuthOptions): ProtectedRoute[] {
  const routes: ProtectedRoute[] = [];
  const apiKeys = options.apiKeys;
  app.decorateRequest('principal', undefined);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(options.prefix)) return;
    const access = route.config?.access;
    if (!access) throw new Error(`route ${String(route.method)} ${route.url} declares no access level`);
    if (access === 'public') {
      route.schema = { ...route.schema, security: [] };
      return;
    }
    let check: (request: FastifyRequest) => Promise<void>;
    if (access === 'upstream') {
      if (!apiKeys) throw new Error(`route ${String(route.method)} ${route.url} needs an upstream API key, but installAuth was given no apiKeys`);
      route.schema = { ...route.schema, security: [{ apiKeyAuth: [] }] };
      check = async (request) => {
        const upstream = apiKeys(request.headers[API_KEY_HEADER]);
        request.principal = { sub: upstream.sub, roles: [], mfa: false, upstream: true };
      };
    } else {
      for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url, access });
      route.schema = { ...route.schema, security: [{ bearerAuth: [] }] };
      check = async (request) => {
        const principal = await verify(request.headers.authorization);
        authorize(principal, access);
        request.principal = principal;
      };
    }
    // A route-level hook placed after the rate limiter's, so floods of bad credentials are limited too.
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
