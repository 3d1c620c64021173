/**
 * Walks EVERY REST route the app registered (not a hand-written list) with no token, an
 * expired token, a forged signature, a role too weak, and no MFA, and checks each answer:
 * 401/403 as problem+json with a stable code and no internals. Public routes stay public;
 * /mcp takes exactly the agents' token or an operator JWT (per-tool access), nothing else.
 */
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { createTokenVerifier, mintToken, type Access, type Role } from '@fairlead/platform';
import { createTestDatabase, expectProblem, type TestDatabase } from '@fairlead/testing';
import { OPERATIONS } from '../application/operations';
import { startTicketWorkflow, type RunningWorkflow } from '../application/start';
import { createTicketWorkflowApp, type TicketWorkflowApp } from './app';

const claims = { issuer: 'fairlead-test', audience: 'fairlead-tw-test' };
const secret = randomBytes(32).toString('hex');
const MCP_TOKEN = randomBytes(24).toString('base64url');
let db: TestDatabase;
let store: PostgresEventStore;
let workflow: RunningWorkflow;
let open: TicketWorkflowApp;
let guarded: TicketWorkflowApp;
let tokenOnly: TicketWorkflowApp;

beforeAll(async () => {
  db = await createTestDatabase('tw_auth');
  store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  workflow = await startTicketWorkflow({ store, pool: db.pool, liveUpdates: true });
  const verifyToken = createTokenVerifier({ secret, ...claims });
  // With live updates, so the event stream route is walked too.
  const base = { ctx: workflow.ctx, logger: pino({ level: 'silent' }), verifyToken, live: workflow.live! };
  // `open` is the REST surface under test (its /mcp takes JWTs); `guarded` takes both credentials, `tokenOnly` only MCP_TOKEN.
  open = await createTicketWorkflowApp({ ...base, mcp: { verifyToken } });
  guarded = await createTicketWorkflowApp({ ...base, mcp: { token: MCP_TOKEN, verifyToken } });
  tokenOnly = await createTicketWorkflowApp({ ...base, mcp: { token: MCP_TOKEN } });
  await Promise.all([open.app.ready(), guarded.app.ready(), tokenOnly.app.ready()]);
});
afterAll(async () => {
  await open?.app.close();
  await guarded?.app.close();
  await tokenOnly?.app.close();
  await workflow?.stop();
  await store?.close();
  await db?.drop();
});

interface CallOptions {
  roles?: readonly Role[];
  mfa?: boolean;
  token?: string;
  headers?: Record<string, string>;
}
const token = (roles: readonly Role[], options: { mfa?: boolean; ttlSec?: number; secret?: string } = {}) =>
  mintToken({ secret: options.secret ?? secret, ...claims, sub: 'olivia', roles, mfa: options.mfa ?? true, ttlSec: options.ttlSec ?? 600 });

async function call(method: string, url: string, options: CallOptions = {}): Promise<LightMyRequestResponse> {
  const bearer = options.token ?? (options.roles ? await token(options.roles, { mfa: options.mfa ?? true }) : undefined);
  return open.app.inject({
    method: method as 'GET',
    url,
    headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...options.headers },
    ...(method === 'GET' ? {} : { payload: {} }),
  });
}

const concrete = (url: string) => url.replace(/:[a-z_]+/g, 'x1');

/** The weakest token that must still be refused, and one that is enough, per access level. */
const TOO_WEAK: Record<Access, readonly Role[]> = { read: [], operate: ['viewer'], admin: ['operator'] };

const ENOUGH: Record<Access, readonly Role[]> = { read: ['viewer'], operate: ['operator'], admin: ['admin'] };

describe('every REST route', () => {
  it('is protected, one per operation at its access level: GET reads (viewer), changes operate (operator with MFA), distributing templates is admin; bearer security in OpenAPI', () => {
    const routes = open.routes;
    for (const operation of OPERATIONS) {
      const route = routes.find((r) => r.url === `/v1${operation.rest.path}` && r.method === operation.rest.method);
      expect(route?.access, operation.name).toBe(operation.access);
      expect(operation.access).toBe(operation.rest.method === 'GET' ? 'read' : ['distribute_template', 'rollback_distribution'].includes(operation.name) ? 'admin' : 'operate');
    }
    for (const route of routes) expect(route.url.startsWith('/v1/')).toBe(true);
    expect(routes.find((r) => r.url === '/v1/events/stream')).toMatchObject({ method: 'GET', access: 'read' });
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(expect.arrayContaining(['POST /v1/tickets', 'GET /v1/tickets/:ticket_id', 'POST /v1/distributions']));
    const doc = open.app.swagger() as { paths: Record<string, Record<string, { security?: unknown }>> };
    for (const route of routes) {
      const op = doc.paths[route.url.replace(/:([a-z_]+)/g, '{$1}')]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.url} in OpenAPI`).toBeDefined();
      expect(op!.security).toEqual([{ bearerAuth: [] }]);
    }
  });

  it('refuses a request without a token or with a malformed Authorization header (401)', async () => {
    for (const route of open.routes) {
      const res = await call(route.method, concrete(route.url));
      expectProblem(res, 401, 'TOKEN_MISSING');
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expectProblem(await call(route.method, concrete(route.url), { headers: { authorization: 'Basic YWxpY2U6cHc=' } }), 401, 'TOKEN_MALFORMED');
    }
  });

  it('refuses an expired token (401)', async () => {
    const expired = await token(['admin'], { ttlSec: -60 });
    for (const route of open.routes) expectProblem(await call(route.method, concrete(route.url), { token: expired }), 401, 'TOKEN_EXPIRED');
  });

  it('refuses a token with a wrong signature, issuer or audience (401)', async () => {
    const forged = await token(['admin'], { secret: 'another-secret-that-is-long-enough-to-sign' });
    const otherIssuer = await mintToken({ secret, issuer: 'someone-else', audience: claims.audience, sub: 'olivia', roles: ['admin'], mfa: true, ttlSec: 600 });
    const otherAudience = await mintToken({ secret, issuer: claims.issuer, audience: 'another-api', sub: 'olivia', roles: ['admin'], mfa: true, ttlSec: 600 });
    for (const route of open.routes) {
      const url = concrete(route.url);
      expectProblem(await call(route.method, url, { token: forged }), 401, 'TOKEN_INVALID');
      expectProblem(await call(route.method, url, { token: otherIssuer }), 401, 'TOKEN_CLAIM_INVALID');
      expectProblem(await call(route.method, url, { token: otherAudience }), 401, 'TOKEN_CLAIM_INVALID');
    }
  });

  it('refuses a role too weak for the route (403)', async () => {
    for (const route of open.routes) {
      expectProblem(await call(route.method, concrete(route.url), { roles: TOO_WEAK[route.access] }), 403, route.access === 'read' ? 'ROLE_REQUIRED' : 'ROLE_INSUFFICIENT');
    }
  });

  it('refuses a change without MFA (403) but lets reads through without it', async () => {
    for (const route of open.routes) {
      const res = await call(route.method, concrete(route.url), { roles: ENOUGH[route.access], mfa: false });
      if (route.access === 'read') expect([401, 403], `${route.method} ${route.url}`).not.toContain(res.statusCode);
      else expectProblem(res, 403, 'MFA_REQUIRED');
    }
  });

  it('lets the right role with MFA through to the handler (whatever it then answers), and an admin everywhere', async () => {
    for (const route of open.routes) {
      const res = await call(route.method, concrete(route.url), { roles: ENOUGH[route.access] });
      expect([401, 403], `${route.method} ${route.url}: ${res.body}`).not.toContain(res.statusCode);
      expect(res.statusCode, `${route.method} ${route.url}: ${res.body}`).toBeLessThan(500);
      expect([401, 403]).not.toContain((await call(route.method, concrete(route.url), { roles: ['admin'] })).statusCode);
    }
  });
});

describe('public routes and /mcp', () => {
  it('serves health, readiness and the OpenAPI document without a token', async () => {
    for (const url of ['/healthz', '/readyz', '/docs/json']) expect((await open.app.inject({ url })).statusCode, url).toBe(200);
  });

  it('limits each client’s requests per window, REST and MCP alike, with a 429 problem; probes are not limited', async () => {
    const verifyToken = createTokenVerifier({ secret, ...claims });
    const limited = await createTicketWorkflowApp({ ctx: workflow.ctx, logger: pino({ level: 'silent' }), verifyToken, mcp: { token: MCP_TOKEN }, rateLimit: { max: 3 } });
    try {
      const viewer = `Bearer ${await token(['viewer'])}`;
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await limited.app.inject({ url: '/v1/projects', headers: { authorization: viewer } })).statusCode);
      expect(statuses).toEqual([200, 200, 200]);
      const over = await limited.app.inject({ url: '/v1/projects', headers: { authorization: viewer } });
      expect(over.statusCode).toBe(429);
      expect(over.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect((await initialize(limited, `Bearer ${MCP_TOKEN}`)).statusCode).toBe(429);
      expect((await limited.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await limited.app.close();
    }
  });

  const initialize = (app: TicketWorkflowApp, authorization?: string) =>
    app.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(authorization ? { authorization } : {}) },
      payload: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'auth-test', version: '1' } } },
    });

  it('never leaves /mcp open: an app without any MCP credential cannot be built', async () => {
    await expect(createTicketWorkflowApp({ ctx: workflow.ctx, logger: pino({ level: 'silent' }), verifyToken: createTokenVerifier({ secret, ...claims }), mcp: {} })).rejects.toThrow(
      /\/mcp needs a credential/,
    );
  });

  it('needs exactly the MCP token or a valid operator JWT on /mcp', async () => {
    expectProblem(await initialize(guarded), 401, 'MCP_TOKEN_MISSING');
    expectProblem(await initialize(guarded, `Bearer ${MCP_TOKEN}x`), 401, 'MCP_TOKEN_INVALID');
    expectProblem(await initialize(guarded, `Bearer ${await token(['admin'], { secret: 'another-secret-that-is-long-enough-to-sign' })}`), 401, 'TOKEN_INVALID');
    expectProblem(await initialize(guarded, `Bearer ${await token(['admin'], { ttlSec: -60 })}`), 401, 'TOKEN_EXPIRED');
    expectProblem(await guarded.app.inject({ method: 'GET', url: '/mcp' }), 401, 'MCP_TOKEN_MISSING');
    for (const credential of [MCP_TOKEN, await token(['viewer'], { mfa: false })]) {
      const ok = await initialize(guarded, `Bearer ${credential}`);
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json()).toMatchObject({ id: 1, result: { serverInfo: { name: 'fairlead-ticket-workflow' } } });
    }
    // With MCP_AUTH=token, an operator JWT is not a credential for /mcp.
    expectProblem(await initialize(tokenOnly, `Bearer ${await token(['admin'])}`), 401, 'MCP_TOKEN_INVALID');
  });
});
