/**
 * Every HTTP route of every service (ticket-workflow's own routes aside: its suite walks
 * them), each a real process, walked from the service's own OpenAPI document so that a new
 * route is covered the day it is added. For each route: no credentials, the wrong kind of
 * credential, a role Fairlead does not know, an expired token and a token without expiry
 * are refused; and with good credentials, hostile input is refused cleanly — NUL characters
 * and unpaired surrogates in path, query and body, over-deep JSON, over-long and badly
 * encoded parameters, forged cursors and limits, a method the path does not have — each a
 * 4xx problem+json that repeats nothing of the input, never a 5xx, and nothing is stored.
 * Every answer carries the security headers and `cache-control: no-store`, and no CORS
 * header for a stranger's origin.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { request } from '@fairlead/messaging';
import { mintToken, type Role } from '@fairlead/platform';
import { TEST_JWT_SECRET, TEST_UPSTREAM_KEY } from '../support/system';
import { startHttpSystem, type HttpSystem } from './http-system';
import { bodyWith, concretePath, expectHygiene, expectRefused, MARK, operationsOf, send, type Answer, type Operation } from './http-walk';

/** Routes that need no credentials, on purpose: counters that reveal no data. Any other public route fails this suite. */
const PUBLIC_ROUTES = ['fairness GET /v1/distribution/stats', 'intake GET /v1/intake/stats', 'notification GET /v1/notification/stats', 'relay GET /v1/relay/status'];
const WALKED = ['operator-api', 'intake', 'notification', 'rotation', 'billing', 'fairness', 'relay'] as const;
/**
 * Routes that refuse unsafe or over-deep bodies themselves, so as to record what they refuse
 * (`ownBodyChecks`): intake's approval records each rejected lead, as for NATS. Their refusals
 * are still clean 4xx answers; their codes are their own, and the rejection is the event stored.
 */
const OWN_BODY_CHECKS = new Set(['intake POST /v1/leads/approved']);

let system: HttpSystem;
let bases: Record<string, string> = {};
const operations: Operation[] = [];

const token = (roles: string[], options: { ttlSec?: number; mfa?: boolean } = {}) =>
  mintToken({ secret: TEST_JWT_SECRET, issuer: 'fairlead', audience: 'fairlead-operator-api', sub: 'security-walk', roles: roles as Role[], mfa: options.mfa ?? true, ttlSec: options.ttlSec ?? 600 });
const tokenWithoutExpiry = () =>
  new SignJWT({ roles: ['admin'], amr: ['pwd', 'mfa'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('security-walk').setIssuer('fairlead').setAudience('fairlead-operator-api').setIssuedAt().sign(new TextEncoder().encode(TEST_JWT_SECRET));

beforeAll(async () => {
  // The operator API's rate limit would stop the walk (hundreds of requests from one address) before it is done.
  system = await startHttpSystem('sec_http', WALKED, { env: { 'operator-api': { RATE_LIMIT_MAX: '1000000' } } });
  bases = system.bases;
  for (const name of WALKED) operations.push(...(await operationsOf(name, bases[name]!)));
}, 240_000);
afterAll(async () => {
  await system?.close();
});

const key = (op: Operation) => `${op.service} ${op.method} ${op.path}`;
const withAuth = async (op: Operation): Promise<Record<string, string>> =>
  op.scheme === 'bearer' ? { authorization: `Bearer ${await token(['admin'])}` } : op.scheme === 'apiKey' ? { 'x-api-key': TEST_UPSTREAM_KEY } : {};
const takesBody = (op: Operation) => op.bodyProps !== undefined;

/** How many events the store holds, intake's records of refused leads aside: a refused request must not have added any. */
async function eventCount(): Promise<number> {
  // The schema name comes from the store itself, not from input.
  const { rows } = await system.db.pool.query<{ n: string }>(`select count(*)::text as n from ${system.store.schema}.events where type <> 'LeadRejected'`);
  return Number(rows[0]!.n);
}

describe('the HTTP surface, from each service’s OpenAPI document', () => {
  it('is found, and only the listed counters are public', () => {
    const count = (service: string) => operations.filter((o) => o.service === service).length;
    expect(count('operator-api')).toBeGreaterThanOrEqual(25);
    expect(count('intake')).toBe(3);
    expect(count('notification')).toBe(6);
    expect(operations.filter((o) => o.scheme === 'public').map(key).sort()).toEqual(PUBLIC_ROUTES);
    expect(operations.filter((o) => o.scheme === 'apiKey').map(key)).toEqual(['intake POST /v1/leads/approved']);
  });
});

describe('every route that needs credentials', () => {
  it('refuses no credentials, the other kind of credential, an unknown role, an expired token and one without expiry', async () => {
    const unknownRole = await token(['guest']);
    const expired = await token(['admin'], { ttlSec: -120 });
    const forever = await tokenWithoutExpiry();
    const admin = await token(['admin']);
    for (const op of operations.filter((o) => o.scheme !== 'public')) {
      const url = concretePath(op);
      const body = takesBody(op) ? bodyWith(op, '"x"') : undefined;
      const call = (headers: Record<string, string>) => send(op.base, op.method, url, { headers, ...(body === undefined ? {} : { body }) });
      if (op.scheme === 'bearer') {
        expectRefused(await call({}), `${key(op)} without a token`, { status: 401, code: 'TOKEN_MISSING' });
        expectRefused(await call({ 'x-api-key': TEST_UPSTREAM_KEY }), `${key(op)} with an API key`, { status: 401, code: 'TOKEN_MISSING' });
        expectRefused(await call({ authorization: `Bearer ${unknownRole}` }), `${key(op)} with an unknown role`, { status: 403, code: 'ROLE_REQUIRED' });
        expectRefused(await call({ authorization: `Bearer ${expired}` }), `${key(op)} with an expired token`, { status: 401, code: 'TOKEN_EXPIRED' });
        expectRefused(await call({ authorization: `Bearer ${forever}` }), `${key(op)} with a token without exp`, { status: 401, code: 'TOKEN_CLAIM_INVALID' });
        expectRefused(await call({ authorization: `Bearer ${MARK}.${MARK}.${MARK}` }), `${key(op)} with a forged token`, { status: 401 });
      } else {
        expectRefused(await call({}), `${key(op)} without a key`, { status: 401, code: 'API_KEY_MISSING' });
        expectRefused(await call({ 'x-api-key': `${MARK}-not-a-key-but-long-enough-0123456789` }), `${key(op)} with a wrong key`, { status: 401, code: 'API_KEY_INVALID' });
        expectRefused(await call({ authorization: `Bearer ${admin}` }), `${key(op)} with an operator JWT`, { status: 401, code: 'API_KEY_MISSING' });
      }
    }
  });
});

describe('hostile input on every route, with good credentials', () => {
  let before: number;
  beforeAll(async () => {
    before = await eventCount();
  });

  /** Sends and checks one hostile request. */
  async function refused(op: Operation, what: string, pathAndQuery: string, options: { body?: string; status?: number; code?: string } = {}): Promise<Answer> {
    const res = await send(op.base, op.method, pathAndQuery, { headers: await withAuth(op), ...(options.body === undefined ? {} : { body: options.body }) });
    expectRefused(res, `${key(op)} ${what}`, { ...(options.status === undefined ? {} : { status: options.status }), ...(options.code === undefined ? {} : { code: options.code }) });
    return res;
  }

  it('path parameters: NUL, an encoded lone surrogate, bad encoding, too long, longer than any id', async () => {
    for (const op of operations.filter((o) => o.pathParams.length > 0)) {
      for (const param of op.pathParams) {
        const at = (value: string) => concretePath(op, { [param]: value });
        await refused(op, `${param}=NUL`, at(`${MARK}%00`), { status: 400, code: 'UNSAFE_TEXT' });
        await refused(op, `${param}=lone surrogate`, at(`${MARK}%ED%A0%80`), { status: 400 });
        await refused(op, `${param}=bad encoding`, at(`${MARK}%E0%A4%A`), { status: 400, code: 'FST_ERR_BAD_URL' });
        await refused(op, `${param} of 300 characters`, at(MARK + 'a'.repeat(300)), { status: 414 });
        await refused(op, `${param} of 150 characters`, at(MARK + 'a'.repeat(150)));
      }
    }
  });

  it('query parameters: NUL, lone surrogate, over-long values, forged cursors and limits', async () => {
    const forgedCursors = [`${MARK}forged`, Buffer.from('{"x":1}').toString('base64url'), Buffer.from('[]').toString('base64url'), Buffer.from(`"${MARK}"`).toString('base64url'), '-1', '9'.repeat(40)];
    const forgedLimits = ['-1', '0', 'abc', '1e9', '9'.repeat(30), '1.5', 'NaN', 'Infinity', ''];
    for (const op of operations.filter((o) => o.scheme !== 'public')) {
      const names = op.queryParams.length > 0 ? op.queryParams : ['q'];
      const path = concretePath(op);
      const body = takesBody(op) ? bodyWith(op, '"x"') : undefined;
      const opts = body === undefined ? {} : { body };
      for (const name of names) await refused(op, `?${name}=NUL`, `${path}?${name}=${MARK}%00`, { ...opts, status: 400, code: 'UNSAFE_TEXT' });
      // A surrogate is not valid UTF-8: it reaches a route as U+FFFD (a search for it finds nothing), never as a surrogate.
      for (const name of op.queryParams) {
        const res = await send(op.base, op.method, `${path}?${name}=${MARK}%ED%B0%80`, { headers: await withAuth(op), ...opts });
        if (res.status >= 400) expectRefused(res, `${key(op)} ?${name}=lone surrogate`);
        else expect(res.text, `${key(op)} ?${name}=lone surrogate`).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/i);
      }
      for (const name of op.queryParams) await refused(op, `?${name} of 5000 characters`, `${path}?${name}=${MARK}${'a'.repeat(5000)}`, opts);
      // Under a path parameter, the unknown parent (404) may be found before the cursor is read; either is a clean refusal.
      const status = op.pathParams.length === 0 ? { status: 400 } : {};
      for (const name of op.queryParams.filter((n) => /cursor|before|after/.test(n))) {
        for (const forged of forgedCursors) await refused(op, `forged ?${name}=${forged}`, `${path}?${name}=${forged}`, { ...opts, ...status });
      }
      if (op.queryParams.includes('limit')) {
        for (const forged of forgedLimits) await refused(op, `forged ?limit=${forged}`, `${path}?limit=${forged}`, { ...opts, ...status });
      }
    }
  });

  it('bodies: NUL and lone surrogates in every property, over-deep JSON, broken JSON', async () => {
    for (const op of operations.filter((o) => takesBody(o) && o.scheme !== 'public')) {
      const path = concretePath(op);
      const own = OWN_BODY_CHECKS.has(key(op));
      const unsafe = own ? {} : { code: 'UNSAFE_TEXT' };
      const deep = own ? {} : { code: 'BODY_TOO_DEEP' };
      await refused(op, 'NUL in the body', path, { body: bodyWith(op, `"${MARK}\\u0000"`), status: 400, ...unsafe });
      await refused(op, 'lone surrogate in the body', path, { body: bodyWith(op, `"${MARK}\\ud800"`), status: 400, ...unsafe });
      await refused(op, 'NUL in a nested key', path, { body: bodyWith(op, `{"${MARK}\\u0000":1}`), status: 400, ...unsafe });
      await refused(op, 'body 64 levels deep', path, { body: bodyWith(op, `${'['.repeat(64)}"${MARK}"${']'.repeat(64)}`), status: 400, ...deep });
      // One property only: 400 kB, under every service's body limit.
      await refused(op, 'body 200 000 levels deep', path, { body: `{"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`, status: 400, ...deep });
      await refused(op, 'broken JSON', path, { body: `{"${MARK}":`, status: 400 });
    }
  });

  it('a method the path does not have: 405 with Allow; no route: 404; neither repeats the request', async () => {
    const byPath = new Map<string, Operation[]>();
    for (const op of operations) byPath.set(`${op.service} ${op.path}`, [...(byPath.get(`${op.service} ${op.path}`) ?? []), op]);
    for (const ops of byPath.values()) {
      const methods = ops.map((o) => o.method);
      const other = ['DELETE', 'PUT', 'PATCH', 'POST'].find((m) => !methods.includes(m))!;
      const res = await send(ops[0]!.base, other, concretePath(ops[0]!, {}));
      expectRefused(res, `${ops[0]!.service} ${other} ${ops[0]!.path}`, { status: 405, code: 'METHOD_NOT_ALLOWED' });
      expect(res.headers.get('allow')).toContain(methods[0]);
    }
    for (const name of WALKED) {
      expectRefused(await send(bases[name]!, 'GET', `/v1/${MARK}/nowhere?token=${MARK}`), `${name} 404`, { status: 404, code: 'ROUTE_NOT_FOUND' });
      expectRefused(await send(bases[name]!, 'GET', `/v1/${MARK}%E0%A4%A`), `${name} bad URL`, { status: 400 });
    }
  });

  it('left nothing behind: no event was stored by any refused request, but the rejections intake records by design', async () => {
    expect(await eventCount()).toBe(before);
  });
});

describe('response headers', () => {
  it('every service sends the security headers and no-store, on probes and docs JSON too, and no CORS to a stranger', async () => {
    for (const name of WALKED) {
      for (const path of ['/healthz', '/readyz', '/docs/json']) {
        const res = await send(bases[name]!, 'GET', path);
        expect(res.status, `${name} ${path}`).toBe(200);
        expectHygiene(res, `${name} ${path}`, { docs: path.startsWith('/docs') });
      }
      const preflight = await send(bases[name]!, 'OPTIONS', '/healthz', { headers: { 'access-control-request-method': 'POST' } });
      expect(preflight.headers.get('access-control-allow-origin'), `${name} preflight`).toBeNull();
    }
  });

  it('an authenticated JSON answer is not stored by caches', async () => {
    const res = await send(bases['operator-api']!, 'GET', '/api/v1/admin/niches', { headers: { authorization: `Bearer ${await token(['viewer'], { mfa: false })}` } });
    expect(res.status).toBe(200);
    expectHygiene(res, 'GET /api/v1/admin/niches');
    const mail = await send(bases.notification!, 'GET', '/v1/outbox', { headers: { authorization: `Bearer ${await token(['viewer'], { mfa: false })}` } });
    expect(mail.status).toBe(200);
    expectHygiene(mail, 'GET /v1/outbox');
  });
});

describe('used as its callers use it', () => {
  it('an upstream system approves a lead with its key, an operator asks for its distribution with a token; each is the recorded actor', async () => {
    await request(system.nc, system.subjects.command('rotation', 'create_niche'), { niche_id: 'sec-walk', name: 'Walk', auto_distribute: false }, { timeoutMs: 15_000 });
    const lead = { schema_version: 1, lead_id: 'sec-walk-1', niche_id: 'sec-walk', approved_at: new Date().toISOString(), consumer: { name: 'Dana', email: 'dana@example.com' }, location: { postal_code: '94107', state: 'CA' } };
    const approved = await send(bases.intake!, 'POST', '/v1/leads/approved', { headers: { 'x-api-key': TEST_UPSTREAM_KEY }, body: JSON.stringify(lead) });
    expect([approved.status, JSON.parse(approved.text)]).toEqual([202, { lead_id: 'sec-walk-1', status: 'accepted', distribution_requested: false }]);
    expectHygiene(approved, 'POST /v1/leads/approved');
    const operator = await mintToken({ secret: TEST_JWT_SECRET, issuer: 'fairlead', audience: 'fairlead-operator-api', sub: 'olga@ops', roles: ['operator'], mfa: true, ttlSec: 600 });
    const queued = await send(bases.intake!, 'POST', '/v1/leads/sec-walk-1/distribute', { headers: { authorization: `Bearer ${operator}` } });
    expect([queued.status, JSON.parse(queued.text).status]).toEqual([202, 'queued']);
    const events = await system.store.readStream(streams.lead('sec-walk-1'));
    expect(events[0]!.metadata.actor).toEqual({ actor_id: 'upstream:e2e', actor_role: 'system' });
    expect(parseDistributionEvent('DistributionRequested', events[1]!.data).requested_by).toEqual({ actor_id: 'olga@ops', actor_role: 'operator' });
  });
});
