import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../logger';
import { ProblemSchema } from '../problem';
import { createHttpApp, type HttpApp } from './app';
import { deriveOperationId, withResponseHeaders } from './openapi';

describe('deriveOperationId', () => {
  it.each([
    ['GET', '/api/v1/leads/:id/decision-record', 'getLeadsByIdDecisionRecord'],
    ['patch', '/api/v1/admin/niches/:id/levels/:levelId', 'patchAdminNichesByIdLevelsByLevelId'],
    ['POST', '/v1/leads/approved', 'postLeadsApproved'],
    ['GET', '/healthz', 'getHealthz'],
    ['GET', '/', 'getRoot'],
    ['PUT', '/v1/workers/:worker_id/status', 'putWorkersByWorkerIdStatus'],
  ])('%s %s → %s', (method, url, id) => {
    expect(deriveOperationId(method, url)).toBe(id);
  });
});

describe('an app from createHttpApp', () => {
  let app: HttpApp;
  let doc: { servers: { url: string }[]; tags: { name: string }[]; paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; required: boolean }[]; responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }> }>> };

  beforeAll(async () => {
    app = await createHttpApp({ logger: createLogger({ service: 'test', level: 'silent' }), serviceName: 'test', openapi: { title: 'T', version: '1' } });
    const Thing = z.object({ id: z.string(), version: z.number() });
    app.get('/v1/things/:id', { schema: { tags: ['things'], params: z.object({ id: z.string() }), response: { 200: withResponseHeaders(Thing, { ETag: { description: 'version' } }), 404: ProblemSchema } } }, async (request, reply) =>
      reply.header('etag', '"1"').send({ id: request.params.id, version: 1 }),
    );
    app.put(
      '/v1/things/:id',
      { schema: { operationId: 'replaceThing', params: z.object({ id: z.string() }), headers: z.object({ 'if-match': z.string() }), body: z.object({ name: z.string() }), response: { 200: Thing, 428: ProblemSchema } } },
      async (request) => ({ id: request.params.id, version: Number(request.headers['if-match']) + 1 }),
    );
    app.post('/v1/things', { schema: { headers: z.object({ 'if-match': z.string().optional() }), response: { 201: Thing } } }, async (_request, reply) => reply.code(201).send({ id: 'new', version: 0 }));
    await app.ready();
    doc = app.swagger() as unknown as typeof doc;
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers 428 problem+json when a required If-Match is missing or blank, before validating the rest', async () => {
    for (const headers of [{}, { 'if-match': '  ' }]) {
      const res = await app.inject({ method: 'PUT', url: '/v1/things/a', headers, payload: { wrong: true } });
      expect(res.statusCode).toBe(428);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'PRECONDITION_REQUIRED', status: 428 });
    }
    const bad = await app.inject({ method: 'PUT', url: '/v1/things/a', headers: { 'if-match': '3' }, payload: { wrong: true } });
    expect(bad.statusCode).toBe(400);
    const ok = await app.inject({ method: 'PUT', url: '/v1/things/a', headers: { 'if-match': '3' }, payload: { name: 'x' } });
    expect(ok.json()).toEqual({ id: 'a', version: 4 });
  });

  it('leaves a route whose If-Match is optional alone', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/things' });
    expect(res.statusCode).toBe(201);
  });

  it('documents operation ids (given or derived), problem+json errors, the server, tags and response headers', () => {
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    expect(doc.tags).toEqual(expect.arrayContaining([{ name: 'things' }, { name: 'operations' }]));
    const thing = doc.paths['/v1/things/{id}']!;
    expect(thing.get!.operationId).toBe('getThingsById');
    expect(thing.put!.operationId).toBe('replaceThing');
    expect(Object.keys(thing.get!.responses['404']!.content!)).toEqual(['application/problem+json']);
    expect(Object.keys(thing.get!.responses['200']!.content!)).toEqual(['application/json']);
    expect(thing.get!.responses['200']!.headers).toEqual({ ETag: { schema: { type: 'string' }, description: 'version' } });
    expect(thing.put!.parameters!.find((p) => p.name === 'if-match')!.required).toBe(true);
    expect(Object.keys(doc.paths['/readyz']!.get!.responses['503']!.content!)).toEqual(['application/problem+json']);
  });

  it('still serializes a response whose schema carries documented headers', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/things/a' });
    expect(res.json()).toEqual({ id: 'a', version: 1 });
    expect(res.headers.etag).toBe('"1"');
  });
});
