/**
 * What every service's HTTP app does with hostile requests, before any route of its own:
 * each is a 4xx problem+json that does not repeat what was sent, never a 5xx. Also the
 * response headers (helmet, CORS, cache-control) and the 503 of an unreachable database,
 * with the real `pg` driver against a port where nothing listens and a server that hangs up.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../logger';
import { createHttpApp, type HttpApp } from './app';

const logger = createLogger({ service: 'hostile-test', level: 'silent' });
const MARK = 'HOSTILE-MARK';

let app: HttpApp;
let refusedPort: number;
let hangUp: Server;
let pools: pg.Pool[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

beforeAll(async () => {
  refusedPort = await freePort();
  // Accepts a connection and drops it at once: what a PostgreSQL that stops mid-conversation looks like.
  hangUp = createServer((socket) => socket.destroy());
  await new Promise<void>((r) => hangUp.listen(0, '127.0.0.1', r));
  app = await createHttpApp({ logger, serviceName: 'hostile-test', openapi: { title: 't', version: '1' } });
  app.post(
    '/things/:id',
    { schema: { params: z.object({ id: z.string().max(128) }), querystring: z.object({ q: z.string().optional() }), body: z.object({ name: z.string(), extra: z.unknown().optional() }) } },
    async (request) => ({ ok: request.params.id }),
  );
  app.get('/things/:id', async () => ({ ok: true }));
  app.get('/db/:target', async (request) => {
    const port = (request.params as { target: string }).target === 'refused' ? refusedPort : (hangUp.address() as AddressInfo).port;
    const pool = new pg.Pool({ connectionString: `postgres://u:p@127.0.0.1:${port}/db` });
    pools.push(pool);
    return (await pool.query('select 1')).rows;
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  pools = [];
  await new Promise((r) => hangUp?.close(r));
});

type Injected = Awaited<ReturnType<HttpApp['inject']>>;

/** A 4xx problem+json with this code, that does not carry the hostile marker back. */
function expectRefusal(res: Injected, status: number, code: string): Record<string, unknown> {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).not.toContain(MARK);
  expect(res.body).not.toMatch(/\\u0000|\\ud[89ab]/i);
  const body = res.json<Record<string, unknown>>();
  expect(body).toMatchObject({ status, code });
  return body;
}

const post = (url: string, payload: string, contentType = 'application/json') => app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType } });

describe('hostile input, refused before any route', () => {
  it('a NUL character or an unpaired surrogate anywhere in a JSON body: 400 UNSAFE_TEXT naming where', async () => {
    const nul = expectRefusal(await post('/things/1', `{"name":"${MARK}\\u0000"}`), 400, 'UNSAFE_TEXT');
    expect(nul.errors).toEqual([{ pointer: '/body/name', detail: expect.stringMatching(/NUL/), code: 'unsafe_text' }]);
    const lone = expectRefusal(await post('/things/1', `{"name":"ok","extra":{"list":["${MARK}\\ud800"]}}`), 400, 'UNSAFE_TEXT');
    expect((lone.errors as { pointer: string }[])[0]?.pointer).toBe('/body/extra/list/0');
    const key = expectRefusal(await post('/things/1', `{"name":"ok","extra":{"${MARK}\\udc00":1}}`), 400, 'UNSAFE_TEXT');
    expect((key.errors as { pointer: string }[])[0]?.pointer).toBe('/body/extra');
    // A pair (an emoji) is text like any other.
    expect((await post('/things/1', `{"name":"\\ud83d\\ude00"}`)).statusCode).toBe(200);
  });

  it('in the query or a path parameter: 400 UNSAFE_TEXT', async () => {
    expectRefusal(await post(`/things/1?q=${MARK}%00`, '{"name":"x"}'), 400, 'UNSAFE_TEXT');
    expectRefusal(await post(`/things/${MARK}%00`, '{"name":"x"}'), 400, 'UNSAFE_TEXT');
    expectRefusal(await app.inject({ method: 'GET', url: `/things/1?q=${MARK}%00` }), 400, 'UNSAFE_TEXT');
  });

  it('a body nested deeper than the bound: 400 BODY_TOO_DEEP, also 500 000 levels deep (no stack overflow)', async () => {
    const depth = (n: number) => `{"name":"x","extra":${'['.repeat(n)}${']'.repeat(n)}}`;
    expect((await post('/things/1', depth(30))).statusCode).toBe(200);
    expectRefusal(await post('/things/1', depth(40)), 400, 'BODY_TOO_DEEP');
    const huge = await app.inject({ method: 'POST', url: '/things/1', payload: '['.repeat(500_000) + ']'.repeat(500_000), headers: { 'content-type': 'application/json' } });
    expectRefusal(huge, 400, 'BODY_TOO_DEEP');
  });

  it('bodies that are not JSON, too large, or of another type: 4xx in our words, not the parser’s', async () => {
    const broken = expectRefusal(await post('/things/1', `{"name":"${MARK}`), 400, 'FST_ERR_CTP_INVALID_JSON_BODY');
    expect(broken.detail).toBe('The body is not valid JSON.');
    expectRefusal(await post('/things/1', JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) })), 413, 'FST_ERR_CTP_BODY_TOO_LARGE');
    expectRefusal(await post('/things/1', '<x/>', `application/${MARK}`), 415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE');
    expectRefusal(await post('/things/1', `{"__proto__":{"${MARK}":1},"name":"x"}`), 400, 'FST_ERR_CTP_INVALID_JSON_BODY');
  });

  it('router errors: a badly encoded URL (400), a path parameter too long (414), no route (404), another method (405 with Allow)', async () => {
    const badUrl = await app.inject({ method: 'GET', url: `/things/${MARK}%E0%A4%A` });
    expectRefusal(badUrl, 400, 'FST_ERR_BAD_URL');
    const tooLong = await app.inject({ method: 'GET', url: `/things/${MARK}${'a'.repeat(300)}` });
    expectRefusal(tooLong, 414, 'FST_ERR_MAX_PARAM_LENGTH');
    // Answered by the router before any hook, and still with the security headers.
    for (const res of [badUrl, tooLong]) {
      expect([res.headers['x-content-type-options'], res.headers['cache-control']]).toEqual(['nosniff', 'no-store']);
      expect(res.headers['x-request-id']).toBe(res.json<{ request_id: string }>().request_id);
    }
    const missing = expectRefusal(await app.inject({ method: 'GET', url: `/nowhere/${MARK}` }), 404, 'ROUTE_NOT_FOUND');
    expect(missing.instance).toBeUndefined();
    const wrongMethod = await app.inject({ method: 'DELETE', url: `/things/${MARK}` });
    expectRefusal(wrongMethod, 405, 'METHOD_NOT_ALLOWED');
    expect(wrongMethod.headers.allow).toBe('GET, HEAD, POST');
  });

  it('names the route pattern as the instance of a problem, never the path sent', async () => {
    const res = await post(`/things/${MARK}`, '{}');
    expect(expectRefusal(res, 400, 'VALIDATION_FAILED').instance).toBe('/things/:id');
  });
});

describe('response headers', () => {
  it('sends security headers, no-store and no CORS headers by default', async () => {
    const res = await app.inject({ method: 'GET', url: '/things/1', headers: { origin: 'https://evil.example' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'strict-transport-security': expect.stringMatching(/max-age=/),
      'content-security-policy': expect.stringMatching(/default-src 'none'/),
      'cache-control': 'no-store',
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await app.inject({ method: 'OPTIONS', url: '/things/1', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect((await app.inject({ method: 'GET', url: '/nowhere' })).headers['cache-control']).toBe('no-store');
    // The documentation page keeps working under its own policy.
    const docs = await app.inject({ method: 'GET', url: '/docs' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-security-policy']).toMatch(/script-src 'self'/);
  });

  it('answers CORS only to the configured origins', async () => {
    const withCors = await createHttpApp({ logger, serviceName: 'cors-test', openapi: { title: 't', version: '1' }, corsOrigins: ['https://ops.example.com'] });
    withCors.get('/v1/x', async () => ({ ok: true }));
    try {
      const allowed = await withCors.inject({ method: 'OPTIONS', url: '/v1/x', headers: { origin: 'https://ops.example.com', 'access-control-request-method': 'GET' } });
      expect(allowed.headers['access-control-allow-origin']).toBe('https://ops.example.com');
      const other = await withCors.inject({ method: 'GET', url: '/v1/x', headers: { origin: 'https://evil.example' } });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await withCors.close();
    }
  });
});

describe('an unreachable database', () => {
  it('is a 503 problem with Retry-After, not a 500: connection refused, and a server that hangs up', async () => {
    for (const target of ['refused', 'hangup']) {
      const res = await app.inject({ method: 'GET', url: `/db/${target}` });
      const body = expectRefusal(res, 503, 'DATABASE_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('5');
      expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|terminated/);
    }
  });
});
