/** The hook on an in-memory app (fastify inject, no socket): prefix, declared access, 401/403 as problem+json. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../http/app';
import { createLogger } from '../logger';
import { createApiKeyVerifier, parseApiKeys } from './api-keys';
import { installAuth, principalOf, type ProtectedRoute } from './auth-hook';
import { mintToken } from './mint-token';
import { createTokenVerifier } from './verify-token';

const claims = { issuer: 'fairlead-test', audience: 'fairlead-test-api' };
const secret = 'a-test-secret-that-is-long-enough-0123456789';
const upstreamKey = 'an-upstream-api-key-that-is-long-enough-0123456789';
let app: HttpApp;
let routes: ProtectedRoute[];

beforeAll(async () => {
  app = await createHttpApp({ logger: createLogger({ service: 'auth-test', level: 'silent' }), serviceName: 'auth-test', readinessChecks: [], openapi: { title: 't', version: '1', bearerAuth: true, apiKeyAuth: true } });
  routes = installAuth(app, createTokenVerifier({ secret, ...claims }), { prefix: '/v1/', apiKeys: createApiKeyVerifier(parseApiKeys([`crm=${upstreamKey}`])) });
  app.get('/v1/things', { config: { access: 'read' } }, async (request) => ({ sub: principalOf(request).sub }));
  app.post('/v1/things', { config: { access: 'operate' } }, async () => ({ ok: true }));
  app.post('/v1/feed', { config: { access: 'upstream' } }, async (request) => ({ sub: principalOf(request).sub, upstream: principalOf(request).upstream }));
  app.get('/v1/counters', { config: { access: 'public' } }, async () => ({ n: 1 }));
  app.get('/open', async () => ({ open: true }));
  await app.ready();
});
afterAll(async () => {
  await app.close();
});

const token = (roles: ('viewer' | 'operator' | 'admin')[], mfa = true, ttlSec = 60) => mintToken({ secret, ...claims, sub: 'carol', roles, mfa, ttlSec });
const call = async (method: 'GET' | 'POST', url: string, bearer?: string) =>
  app.inject({ method, url, ...(bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {}) });

describe('installAuth', () => {
  it('lists the protected routes with their access level, and leaves other routes public', async () => {
    expect(routes).toEqual([
      { method: 'GET', url: '/v1/things', access: 'read' },
      { method: 'POST', url: '/v1/things', access: 'operate' },
    ]);
    expect((await call('GET', '/open')).statusCode).toBe(200);
    expect((await call('GET', '/healthz')).statusCode).toBe(200);
  });

  it('refuses a protected route declared without an access level', async () => {
    const other = await createHttpApp({ logger: createLogger({ service: 'auth-test', level: 'silent' }), serviceName: 'auth-test', readinessChecks: [], openapi: { title: 't', version: '1' } });
    installAuth(other, createTokenVerifier({ secret, ...claims }), { prefix: '/v1/' });
    expect(() => other.get('/v1/forgotten', async () => ({}))).toThrow(/declares no access level/);
    await other.close();
  });

  it('answers 401 and 403 as problem+json with stable codes, and lets the right caller in', async () => {
    const missing = await call('GET', '/v1/things');
    expect([missing.statusCode, missing.headers['content-type'], missing.json().code]).toEqual([401, 'application/problem+json; charset=utf-8', 'TOKEN_MISSING']);
    expect((await call('GET', '/v1/things', await token(['viewer'], true, -120))).json().code).toBe('TOKEN_EXPIRED');
    const viewerWrites = await call('POST', '/v1/things', await token(['viewer']));
    expect([viewerWrites.statusCode, viewerWrites.json().code]).toEqual([403, 'ROLE_INSUFFICIENT']);
    expect((await call('POST', '/v1/things', await token(['operator'], false))).json().code).toBe('MFA_REQUIRED');
    const read = await call('GET', '/v1/things', await token(['viewer'], false));
    expect([read.statusCode, read.json()]).toEqual([200, { sub: 'carol' }]);
    expect((await call('POST', '/v1/things', await token(['operator']))).statusCode).toBe(200);
  });

  it('lets an upstream route in with its API key only (a JWT is not one), and a public route with nothing', async () => {
    const feed = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/v1/feed', headers });
    expect((await feed({})).json().code).toBe('API_KEY_MISSING');
    expect((await feed({ 'x-api-key': 'nope' })).statusCode).toBe(401);
    expect((await feed({ authorization: `Bearer ${await token(['admin'])}` })).json().code).toBe('API_KEY_MISSING');
    const ok = await feed({ 'x-api-key': upstreamKey });
    expect([ok.statusCode, ok.json()]).toEqual([200, { sub: 'upstream:crm', upstream: true }]);
    // An API key opens no operator route.
    expect((await app.inject({ method: 'GET', url: '/v1/things', headers: { 'x-api-key': upstreamKey } })).json().code).toBe('TOKEN_MISSING');
    expect((await call('GET', '/v1/counters')).statusCode).toBe(200);
  });

  it('names each route\'s scheme in the OpenAPI document (none: an explicit empty list)', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, { security?: unknown }>>; components: { securitySchemes: Record<string, unknown> } }>();
    expect(doc.paths['/v1/things']?.get?.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/v1/feed']?.post?.security).toEqual([{ apiKeyAuth: [] }]);
    expect(doc.paths['/v1/counters']?.get?.security).toEqual([]);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKeyAuth', 'bearerAuth']);
  });

  it('refuses an upstream route when no API keys were given', async () => {
    const other = await createHttpApp({ logger: createLogger({ service: 'auth-test', level: 'silent' }), serviceName: 'auth-test', readinessChecks: [], openapi: { title: 't', version: '1' } });
    installAuth(other, createTokenVerifier({ secret, ...claims }), { prefix: '/v1/' });
    expect(() => other.post('/v1/feed', { config: { access: 'upstream' } }, async () => ({}))).toThrow(/no apiKeys/);
    await other.close();
  });
});
