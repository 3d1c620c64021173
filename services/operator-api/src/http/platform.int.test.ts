/** What every request goes through besides its route: the rate limit, /metrics and the OpenAPI document. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from '../testing/api-harness';

let h: ApiHarness;

beforeAll(async () => {
  h = await startApiHarness('op_platform', { rateLimitMax: 5, rateLimitWindowMs: 60_000 });
});
afterAll(async () => {
  await h.close();
});

describe('the operator API app', () => {
  it('limits requests per client with a problem+json 429, but never its probes', async () => {
    const token = await h.token(['viewer']);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await h.call('GET', '/api/v1/admin/niches', { token })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await h.call('GET', '/api/v1/admin/niches', { token });
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    // Bad tokens count too: a flood of them cannot get past the limit to the verifier.
    expect((await h.call('GET', '/api/v1/admin/niches')).statusCode).toBe(429);
    for (let i = 0; i < 3; i++) expect((await h.call('GET', '/healthz')).statusCode).toBe(200);
  });

  it('serves Prometheus metrics: requests by route, read-model positions, dead letters', async () => {
    const res = await h.api.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/http_requests_total\{[^}]*route="\/api\/v1\/admin\/niches"[^}]*status_code="429"[^}]*\} \d+/);
    expect(res.body).toMatch(/http_request_duration_seconds_bucket\{/);
    expect(res.body).toMatch(/operator_projection_position\{[^}]*projection="operator.leads"[^}]*\} 0/);
    expect(res.body).toMatch(/fairlead_dead_letters\{[^}]*stream="[^"]*FAIRLEAD_DLQ"[^}]*\} 0/);
    expect(res.body).toContain('service="operator-api"');
  });

  it('documents every route in OpenAPI with the bearer scheme', async () => {
    const doc = (await h.api.app.inject({ method: 'GET', url: '/docs/json' })).json<{ openapi: string; paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/admin/leads/{id}/distribute', '/api/v1/admin/dead-letters/{seq}/redrive']));
  });
});
