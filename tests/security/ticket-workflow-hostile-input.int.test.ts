/**
 * Hostile input on EVERY ticket-workflow REST route and MCP tool — enumerated from the
 * service's OpenAPI document and from the MCP tool list, so a new route or tool is
 * attacked without touching this file. Each field in turn gets what a database or a parser
 * chokes on: NUL bytes, lone surrogates, very long and number-like strings, forged limits,
 * wrong types, huge arrays, nesting 10 000 deep. Every answer must be a 4xx problem+json
 * (REST) or a tool/JSON-RPC error (MCP) — never a 5xx, never an internal error — that does
 * not echo the input, and the event store must not have moved (nothing half-applied).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, type Checkpoint, type PostgresEventStore } from '@fairlead/event-store';
import { createTokenVerifier, mintToken } from '@fairlead/platform';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { createTicketWorkflowApp, startTicketWorkflow, type RunningWorkflow, type TicketWorkflowApp } from '@fairlead/ticket-workflow';

const claims = { issuer: 'fairlead-test', audience: 'fairlead-tw-hostile' };
const secret = randomBytes(32).toString('hex');
const MCP_TOKEN = randomBytes(24).toString('base64url');
const LONG = 'L'.repeat(300_000);
let db: TestDatabase;
let store: PostgresEventStore;
let workflow: RunningWorkflow;
let service: TicketWorkflowApp;
let files: string;
let admin: string;

beforeAll(async () => {
  db = await createTestDatabase('tw_sec_hostile');
  // A small event limit, so "too large for the store" is reachable with inputs the schemas allow.
  store = createPostgresEventStore({ pool: db.pool, maxEventBytes: 64 * 1024 });
  await store.migrate();
  files = await mkdtemp(join(tmpdir(), 'tw-sec-hostile-'));
  workflow = await startTicketWorkflow({ store, pool: db.pool, files: { templatesRoot: files, projectsRoot: files }, liveUpdates: true });
  const verifyToken = createTokenVerifier({ secret, ...claims });
  service = await createTicketWorkflowApp({
    ctx: workflow.ctx,
    logger: pino({ level: 'silent' }),
    verifyToken,
    mcp: { token: MCP_TOKEN, verifyToken },
    live: workflow.live!,
    rateLimit: { max: 1_000_000 },
  });
  await service.app.ready();
  admin = `Bearer ${await mintToken({ secret, ...claims, sub: 'mallory', roles: ['admin'], mfa: true, ttlSec: 3600 })}`;
});
afterAll(async () => {
  await service?.app.close();
  await workflow?.stop();
  await store?.close();
  await db?.drop();
  if (files) await rm(files, { recursive: true, force: true });
});

/** JSON text nested `levels` deep (built as text: JSON.stringify itself overflows on it). */
const deepJson = (levels: number): string => `${'['.repeat(levels)}"bottom"${']'.repeat(levels)}`;
const DEEP = deepJson(10_000);

/** Values that must be refused by any field, whatever its type; as JSON text. */
const HOSTILE: ReadonlyArray<[string, string]> = ([
  ['NUL byte', 'abc\u0000def'],
  ['lone high surrogate', 'abc\ud800'],
  ['lone low surrogate', '\udc00abc'],
  ['300 000 characters', LONG],
  ['negative number', -1],
  ['huge number', 1e300],
  ['fraction', 1.5],
  ['wrong type (object)', { $gt: '' }],
  ['array of NUL strings', ['a\u0000']],
  ['huge array', Array.from({ length: 100_000 }, () => 'x')],
  ['NUL in a key', { 'k\u0000': 'v' }],
] as Array<[string, unknown]>)
  .map(([label, value]): [string, string] => [label, JSON.stringify(value)])
  .concat([['10 000 levels deep', DEEP]]);
const objectJson = (fields: Record<string, string>) => `{${Object.entries(fields).map(([k, json]) => `${JSON.stringify(k)}:${json}`).join(',')}}`;

/** Query values by the parameter's declared type (a plain word is a fine string, a bad number). */
const QUERY_HOSTILE: Record<string, ReadonlyArray<[string, string]>> = {
  any: [
    ['NUL byte', '%00'],
    ['lone surrogate (invalid UTF-8)', '%ED%A0%80'],
    ['long', 'q'.repeat(10_000)],
  ],
  integer: [
    ['negative', '-1'],
    ['beyond any limit', '99999999999999999999'],
    ['not a number', 'abc'],
    ['fraction', '1.5'],
  ],
  number: [['not a number', 'abc']],
  boolean: [['not a boolean', 'maybe']],
};

const PATH_DEFAULTS: Record<string, string> = { ticket_id: 'HOST-001', worker_id: 'w-1', worker_type: 'developer', distribution_id: 'dist_x', project_id: 'host', name: 'developer' };

interface OpenApiOperation {
  parameters?: Array<{ in: 'path' | 'query'; name: string; schema?: { type?: string } }>;
  requestBody?: { content?: { 'application/json'?: { schema?: { properties?: Record<string, unknown> } } } };
}

function restOperations(): Array<{ method: string; path: string; op: OpenApiOperation }> {
  const doc = service.app.swagger() as { paths: Record<string, Record<string, OpenApiOperation>> };
  return Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/v1/'))
    .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
}

const head = async (): Promise<Checkpoint | undefined> => store.headCheckpoint({ includeHeldBack: true });

async function expectRefused(res: { statusCode: number; headers: Record<string, unknown>; body: string }, what: string, before: Checkpoint | undefined, { routerLevel = false } = {}) {
  expect(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
  // A URL the router cannot decode never reaches the service: its answer's format is the HTTP app's (libs/platform).
  if (!routerLevel) expect(String(res.headers['content-type']), what).toContain('application/problem+json');
  expect(res.body, what).not.toContain('\u0000');
  expect(res.body.includes(LONG.slice(0, 1000)), `${what} echoes the input`).toBe(false);
  expect(await head(), `${what} changed the store`).toEqual(before);
}

describe('every REST route (from the OpenAPI document)', () => {
  it('covers the routes the service registers', () => {
    const listed = restOperations().map((r) => `${r.method} ${r.path}`);
    expect(listed.length).toBeGreaterThanOrEqual(service.routes.length);
    for (const route of service.routes) expect(listed).toContain(`${route.method} ${route.url.replace(/:([a-z_]+)/g, '{$1}')}`);
  });

  it('refuses hostile body fields, query values and path parameters with a 4xx problem and stores nothing', async () => {
    let attacks = 0;
    for (const { method, path, op } of restOperations()) {
      const params = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      const query = (op.parameters ?? []).filter((p) => p.in === 'query');
      const fields = Object.keys(op.requestBody?.content?.['application/json']?.schema?.properties ?? {});
      const url = (overrides: Record<string, string> = {}) =>
        path.replace(/\{([a-z_]+)\}/g, (_, name: string) => overrides[name] ?? encodeURIComponent(PATH_DEFAULTS[name] ?? 'x1'));
      const send = (target: string, payload = '{}') =>
        service.app.inject({
          method: method as 'POST',
          url: target,
          headers: { authorization: admin, 'content-type': 'application/json' },
          ...(method === 'GET' || method === 'DELETE' ? {} : { payload }),
        });
      for (const field of fields) {
        for (const [label, value] of HOSTILE) {
          const before = await head();
          await expectRefused(await send(url(), objectJson({ [field]: value })), `${method} ${path} body.${field} = ${label}`, before);
          attacks++;
        }
      }
      if (fields.length > 0) {
        const before = await head();
        await expectRefused(await send(url(), DEEP), `${method} ${path} body nested 10 000 deep`, before);
        await expectRefused(await send(url(), objectJson({ [fields[0]!]: '"ok"', extra: DEEP })), `${method} ${path} unknown field nested 10 000 deep`, before);
      }
      for (const { name, schema } of query) {
        for (const [label, value] of [...QUERY_HOSTILE.any!, ...(QUERY_HOSTILE[schema?.type ?? ''] ?? [])]) {
          const before = await head();
          await expectRefused(await send(`${url()}?${name}=${value}`), `${method} ${path} ?${name} = ${label}`, before);
          attacks++;
        }
      }
      for (const name of params) {
        for (const [label, value] of [['NUL', '%00'], ['invalid UTF-8', '%ED%A0%80'], ['long', 'p'.repeat(5_000)], ['traversal', '..%2F..%2Fetc%2Fpasswd']] as const) {
          const before = await head();
          await expectRefused(await send(url({ [name]: value })), `${method} ${path} {${name}} = ${label}`, before, { routerLevel: label === 'invalid UTF-8' || label === 'long' });
          attacks++;
        }
      }
    }
    expect(attacks).toBeGreaterThan(200);
  }, 300_000);

  it('refuses forged event ids (beyond bigint) as a 400, not a database error', async () => {
    const before = await head();
    const res = await service.app.inject({ method: 'POST', url: '/v1/events/processed', headers: { authorization: admin }, payload: { event_ids: ['9'.repeat(40), 2 ** 80] } });
    await expectRefused(res, 'event_ids beyond bigint', before);
    expect(res.statusCode).toBe(400);
  });

  it('refuses what is too large for the event store with a 400, storing nothing (not a 500)', async () => {
    const before = await head();
    const res = await service.app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: { authorization: admin },
      payload: { project_id: 'sec/large', title: 'T', description: 'é'.repeat(90_000), execution_plan: ['developer'] },
    });
    await expectRefused(res, 'a description past the store limit', before);
    expect(res.json()).toMatchObject({ status: 400, code: 'TOO_LARGE' });
  });

  it('refuses a ticket whose description cannot be stored without registering its project or using up a number', async () => {
    const create = (description: string) =>
      service.app.inject({ method: 'POST', url: '/v1/tickets', headers: { authorization: admin }, payload: { project_id: 'sec/half', title: 'T', description, execution_plan: ['developer'] } });
    const before = await head();
    await expectRefused(await create('before\u0000after'), 'NUL description', before);
    const projects = (await service.app.inject({ url: '/v1/projects', headers: { authorization: admin } })).json() as Array<{ project_id: string }>;
    expect(projects.map((p) => p.project_id)).not.toContain('sec/half');
    const ok = await create('a proper description');
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ ticket_id: 'HALF-001' });
  });
});

describe('every MCP tool (from tools/list)', () => {
  /** A JSON-RPC call; `paramsJson` is JSON text. */
  const rpc = async (method: string, paramsJson: string, id = 1) =>
    service.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { authorization: `Bearer ${MCP_TOKEN}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      payload: `{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(method)},"params":${paramsJson}}`,
    });

  it('answers hostile arguments to every tool with a tool or JSON-RPC error, never an internal error, and stores nothing', async () => {
    const listed = await rpc('tools/list', '{}');
    const tools = (listed.json() as { result: { tools: Array<{ name: string; inputSchema: { properties?: Record<string, unknown> } }> } }).result.tools;
    expect(tools.length).toBeGreaterThan(15);
    let attacks = 0;
    for (const tool of tools) {
      const fields = Object.keys(tool.inputSchema.properties ?? {});
      const cases: Array<[string, string]> = fields.flatMap((field) => HOSTILE.map(([label, value]) => [`${field} = ${label}`, objectJson({ [field]: value })] as [string, string]));
      cases.push(['an unknown argument nested 10 000 deep', objectJson({ extra: DEEP })]);
      for (const [label, args] of cases) {
        const before = await head();
        const res = await rpc('tools/call', objectJson({ name: JSON.stringify(tool.name), arguments: args }), ++attacks);
        const what = `${tool.name} ${label}`;
        expect(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
        const body = res.json() as { error?: { code: number }; result?: { isError?: boolean; structuredContent?: { error?: { code: string } } } };
        const refused = body.error !== undefined || body.result?.isError === true;
        expect(refused, `${what}: ${res.body.slice(0, 300)}`).toBe(true);
        expect(body.result?.structuredContent?.error?.code, what).not.toBe('INTERNAL_ERROR');
        expect(res.body.includes(LONG.slice(0, 1000)), `${what} echoes the input`).toBe(false);
        expect(await head(), `${what} changed the store`).toEqual(before);
      }
    }
    expect(attacks).toBeGreaterThan(200);
  }, 300_000);
});
