import type { NatsConnection } from '@nats-io/nats-core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestDatabase, testNatsConnection, type TestDatabase } from '@fairlead/testing';
import { ConflictError, NotFoundError } from '../errors';
import { createLogger } from '../logger';
import { createHttpApp, listen, type HttpApp } from './app';
import { natsReadiness, postgresReadiness, type ReadinessCheck } from './readiness';

const logger = createLogger({ service: 'platform-test', level: 'silent' });

const Lead = z.object({
  lead_id: z.string().min(1).describe('Upstream lead id'),
  state: z.string().regex(/^[A-Z]{2}$/),
  price_usd: z.number().positive(),
});

async function startApp(readinessChecks: ReadinessCheck[], readinessTimeoutMs?: number): Promise<{ app: HttpApp; base: string }> {
  const app = await createHttpApp({
    logger,
    serviceName: 'platform-test',
    readinessChecks,
    ...(readinessTimeoutMs === undefined ? {} : { readinessTimeoutMs }),
    openapi: { title: 'Platform test API', version: '1.2.3' },
  });
  app.post(
    '/leads/:id',
    { schema: { params: z.object({ id: z.string().regex(/^\d+$/) }), body: Lead, response: { 201: z.object({ lead_id: z.string(), accepted: z.boolean() }) } } },
    async (request, reply) => reply.code(201).send({ lead_id: request.body.lead_id, accepted: true }),
  );
  app.get('/leads/:id', async (request) => {
    throw new NotFoundError(`lead ${(request.params as { id: string }).id} not found`, { code: 'LEAD_NOT_FOUND', details: { lead_id: '42' } });
  });
  app.get('/conflict', async () => {
    throw new ConflictError('stream moved', { details: { expected: 1, actual: 2 } });
  });
  app.get('/boom', async () => {
    throw new Error('SELECT * FROM secrets WHERE password = hunter2');
  });
  const address = await listen(app, { host: '127.0.0.1', port: 0 });
  return { app, base: address };
}

async function problem(res: Response): Promise<Record<string, unknown>> {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await res.json()) as Record<string, unknown>;
}

describe('createHttpApp against real PostgreSQL and NATS', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  let app: HttpApp;
  let base: string;

  beforeAll(async () => {
    db = await createTestDatabase('platform_http');
    nc = await testNatsConnection({ identity: 'admin' });
    ({ app, base } = await startApp([postgresReadiness(db.pool), natsReadiness(nc)]));
  });
  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await db?.drop();
  });

  it('/healthz answers while the process lives', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', service: 'platform-test' });
  });

  it('/readyz is 200 with each check up when PostgreSQL and NATS answer', async () => {
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: Record<string, { status: string; duration_ms: number }> };
    expect(body.status).toBe('ready');
    expect(body.checks.postgres?.status).toBe('up');
    expect(body.checks.nats?.status).toBe('up');
  });

  it('/readyz is a 503 problem naming the check that is down (closed pool, closed NATS connection)', async () => {
    const closedPool = new pg.Pool({ connectionString: db.url });
    await closedPool.end();
    const closedNc = await testNatsConnection({ identity: 'admin' });
    await closedNc.close();
    const down = await startApp([postgresReadiness(closedPool), natsReadiness(closedNc), postgresReadiness(db.pool, 'postgres-live')]);
    try {
      const res = await fetch(`${down.base}/readyz`);
      expect(res.status).toBe(503);
      const body = await problem(res);
      expect(body).toMatchObject({ status: 503, code: 'NOT_READY', title: 'Service Unavailable', instance: '/readyz' });
      expect(body.detail).toBe('Not ready: postgres, nats down.');
      const checks = (body.details as { checks: Record<string, { status: string; error?: string }> }).checks;
      expect(checks.postgres).toMatchObject({ status: 'down', error: expect.stringMatching(/end/i) });
      expect(checks.nats).toMatchObject({ status: 'down', error: 'the NATS connection is closed' });
      expect(checks['postgres-live']?.status).toBe('up');
    } finally {
      await down.app.close();
    }
  });

  it('/readyz reports a check that hangs as down instead of hanging', async () => {
    const hung = await startApp([{ name: 'stuck', check: () => new Promise(() => undefined) }], 100);
    try {
      const res = await fetch(`${hung.base}/readyz`);
      expect(res.status).toBe(503);
      const body = await problem(res);
      expect((body.details as { checks: Record<string, { error: string }> }).checks.stuck?.error).toBe('no answer within 100 ms');
    } finally {
      await hung.app.close();
    }
  });

  it('answers an unknown route with a 404 problem that does not repeat the path, and echoes a well-formed request id', async () => {
    const res = await fetch(`${base}/nowhere?x=1`, { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('trace-abc.123');
    expect(await problem(res)).toEqual({
      type: 'https://fairlead.dev/problems/route-not-found',
      title: 'Not Found',
      status: 404,
      detail: 'No route matches this method and path.',
      code: 'ROUTE_NOT_FOUND',
      request_id: 'trace-abc.123',
    });
  });

  it('replaces a malformed request id with a fresh one', async () => {
    const res = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'evil\tid with spaces' } });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('validates with the zod schemas and answers a 400 problem listing every issue', async () => {
    const ok = await fetch(`${base}/leads/42`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lead_id: 'L-1', state: 'TX', price_usd: 12.5 }),
    });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toEqual({ lead_id: 'L-1', accepted: true });

    const bad = await fetch(`${base}/leads/42`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lead_id: '', state: 'texas' }),
    });
    expect(bad.status).toBe(400);
    const body = await problem(bad);
    expect(body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', instance: '/leads/:id' });
    const pointers = (body.errors as Array<{ pointer: string; code: string }>).map((e) => e.pointer).sort();
    expect(pointers).toEqual(['/body/lead_id', '/body/price_usd', '/body/state']);

    const badParam = await fetch(`${base}/leads/abc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(badParam.status).toBe(400);
    expect(((await problem(badParam)).errors as Array<{ pointer: string }>)[0]?.pointer).toBe('/params/id');
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const res = await fetch(`${base}/leads/42`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"lead_id":' });
    expect(res.status).toBe(400);
    expect((await problem(res)).status).toBe(400);
  });

  it('maps a thrown AppError to its status, code, message and details', async () => {
    const res = await fetch(`${base}/leads/7`);
    expect(res.status).toBe(404);
    expect(await problem(res)).toMatchObject({
      type: 'https://fairlead.dev/problems/lead-not-found',
      code: 'LEAD_NOT_FOUND',
      detail: 'lead 7 not found',
      details: { lead_id: '42' },
    });
    const conflict = await fetch(`${base}/conflict`);
    expect(conflict.status).toBe(409);
    expect((await problem(conflict)).code).toBe('CONFLICT');
  });

  it('hides an unexpected error behind a 500 problem without message or stack', async () => {
    const res = await fetch(`${base}/boom`);
    expect(res.status).toBe(500);
    const text = JSON.stringify(await problem(res));
    expect(text).toContain('"code":"INTERNAL"');
    expect(text).not.toMatch(/hunter2|SELECT|stack|app\.int\.test/);
  });

  it('serves the OpenAPI document with the zod-described routes, and the UI at /docs', async () => {
    const res = await fetch(`${base}/docs/json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, { description?: string }>; required: string[] } }> } }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Platform test API', version: '1.2.3' });
    const post = doc.paths['/leads/{id}']?.post;
    const schema = post?.requestBody?.content['application/json']?.schema;
    expect(schema?.required.sort()).toEqual(['lead_id', 'price_usd', 'state']);
    expect(schema?.properties.lead_id?.description).toBe('Upstream lead id');
    // The probes are documented (operators call them); /metrics and the docs themselves are not.
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz']));
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/docs') || p === '/metrics')).toEqual([]);

    const ui = await fetch(`${base}/docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/text\/html/);
  });
});
