/**
 * The HTTP surface of a running service, read from its own OpenAPI document (`/docs/json`),
 * so a route added tomorrow is walked by the security suite without anyone listing it; and
 * the checks every refusal must pass.
 */
import { expect } from 'vitest';

/** A marker put into every hostile value: an answer that contains it echoed the input. */
export const MARK = 'SECMARK';

export type Scheme = 'bearer' | 'apiKey' | 'public';

export interface Operation {
  service: string;
  base: string;
  method: string;
  /** As in OpenAPI: `/api/v1/admin/leads/{id}`. */
  path: string;
  scheme: Scheme;
  pathParams: string[];
  queryParams: string[];
  /** Top-level properties of the JSON body, or undefined when the route takes no body. */
  bodyProps: string[] | undefined;
}

interface OpenApiOperation {
  security?: Record<string, unknown>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

export async function operationsOf(service: string, base: string): Promise<Operation[]> {
  const res = await fetch(`${base}/docs/json`);
  expect(res.status, `${service} /docs/json`).toBe(200);
  const doc = (await res.json()) as { paths?: Record<string, Record<string, OpenApiOperation>> };
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    // The probes are public by design on every service; the hygiene test checks them on their own.
    if (path === '/healthz' || path === '/readyz') continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
      const scheme: Scheme = schemes.includes('bearerAuth') ? 'bearer' : schemes.includes('apiKeyAuth') ? 'apiKey' : 'public';
      const params = op.parameters ?? [];
      const json = op.requestBody?.content?.['application/json']?.schema;
      ops.push({
        service,
        base,
        method: method.toUpperCase(),
        path,
        scheme,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        bodyProps: op.requestBody ? Object.keys(json?.properties ?? {}) : undefined,
      });
    }
  }
  return ops;
}

/** The path with each parameter set (raw: the caller percent-encodes what it means to). */
export function concretePath(op: Operation, values: Record<string, string> = {}): string {
  return op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => values[name] ?? 'sec1');
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

export async function send(base: string, method: string, pathAndQuery: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const res = await fetch(`${base}${pathAndQuery}`, {
    method,
    headers: { origin: 'https://evil.example', ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/**
 * Headers every answer of every service carries: helmet's (a content security policy that
 * allows nothing, except on /docs, which has its own), no-store, and no CORS for a
 * stranger's origin.
 */
export function expectHygiene(res: Answer, what: string, options: { docs?: boolean } = {}): void {
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(res.headers.get('x-frame-options'), what).toBe('SAMEORIGIN');
  expect(res.headers.get('content-security-policy'), what).toMatch(options.docs ? /default-src 'self'/ : /default-src 'none'/);
  expect(res.headers.get('cache-control'), what).toBe('no-store');
  expect(res.headers.get('access-control-allow-origin'), what).toBeNull();
}

/**
 * A refusal: a 4xx (never 5xx) problem+json with a stable code and a detail, that repeats
 * nothing of the hostile input, shows no internals, and carries the hygiene headers.
 */
export function expectRefused(res: Answer, what: string, expected?: { status?: number; code?: string }): Record<string, unknown> {
  const label = `${what} → ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, label).toBeGreaterThanOrEqual(400);
  expect(res.status, label).toBeLessThan(500);
  if (expected?.status !== undefined) expect(res.status, label).toBe(expected.status);
  expect(res.headers.get('content-type'), label).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body.status, label).toBe(res.status);
  expect(typeof body.code, label).toBe('string');
  if (expected?.code !== undefined) expect(body.code, label).toBe(expected.code);
  expect(typeof body.detail, label).toBe('string');
  expect(res.text, label).not.toContain(MARK);
  expect(res.text, label).not.toMatch(/\\u0000|\\ud[89a-f][0-9a-f]{2}|node_modules|\bat .+\.(ts|js):\d+|postgres|ECONN/i);
  expectHygiene(res, label);
  return body;
}

/** A JSON body text setting each property (or `x`) to the given JSON value text. */
export function bodyWith(op: Operation, valueJson: string): string {
  const props = op.bodyProps && op.bodyProps.length > 0 ? op.bodyProps : ['x'];
  return `{${props.map((p) => `${JSON.stringify(p)}:${valueJson}`).join(',')}}`;
}
