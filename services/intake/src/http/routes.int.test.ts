/** Intake's HTTP routes on the real event store and NATS (rotation's get_niche answered by the stand-in). */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { expectProblem } from '@fairlead/testing';
import { leadPayload, operatorToken, startIntakeHarness, upstreamHeaders, type IntakeHarness } from '../testing/harness';

let h: IntakeHarness;

beforeAll(async () => {
  h = await startIntakeHarness('intake_http');
  h.niches.add('auto', true);
  h.niches.add('manual', false);
});
afterAll(() => h?.close());

/** The credentials each route needs: the upstream API key for approvals, an operator's JWT for distribution requests. */
async function credentials(url: string): Promise<Record<string, string>> {
  return url.endsWith('/approved') ? { ...upstreamHeaders } : { authorization: `Bearer ${await operatorToken({ sub: 'ops@x' })}` };
}

const send = (url: string, payload: unknown, headers: Record<string, string>) =>
  h.app.inject({ method: 'POST', url, ...(payload === undefined ? {} : { payload: payload as object }), headers });
/** POST with the right credentials for the route. */
const post = async (url: string, payload?: unknown, headers: Record<string, string> = {}) => send(url, payload, { ...(await credentials(url)), ...headers });

/** Records an event fairness would write on the lead's stream. */
async function fairnessRecords(leadId: string, type: 'DistributionFailed' | 'DistributionCompleted', requestId: string, final = true): Promise<void> {
  const at = new Date().toISOString();
  const data =
    type === 'DistributionFailed'
      ? { lead_id: leadId, niche_id: 'manual', request_id: requestId, attempt: 6, error: 'billing down', final, failed_at: at }
      : { lead_id: leadId, niche_id: 'manual', request_id: requestId, outcome: 'no_eligible', start_order_position: 1, traversal: [], assignments: [], skipped: [], duration_ms: 3, attempt: 1, completed_at: at };
  await h.store.append(streams.lead(leadId), [{ id: randomUUID(), type, data }], 'any');
}

describe('POST /v1/leads/approved', () => {
  it('accepts a valid lead with 202, and answers a repeat as a duplicate', async () => {
    const first = await post('/v1/leads/approved', leadPayload('h-1', 'auto'));
    expect(first.statusCode).toBe(202);
    expect(first.json()).toEqual({ lead_id: 'h-1', status: 'accepted', distribution_requested: true });
    const again = await post('/v1/leads/approved', leadPayload('h-1', 'auto'));
    expect(again.json()).toEqual({ lead_id: 'h-1', status: 'duplicate', distribution_requested: false });
    const events = await h.leadEvents('h-1');
    expect(events.map((e) => e.type)).toEqual(['LeadApproved', 'DistributionRequested']);
    expect(parseDistributionEvent('LeadApproved', events[0]!.data).received_via).toBe('http');
  });

  it('answers a malformed lead with 400 problem+json naming every issue, and records the rejection', async () => {
    const res = await post('/v1/leads/approved', { ...leadPayload('h-bad', 'auto'), schema_version: 2, location: { postal_code: '1', state: 'Texas' } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const problem = res.json();
    expect(problem).toMatchObject({ status: 400, code: 'LEAD_INVALID', instance: '/v1/leads/approved' });
    expect(problem.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(['/body/location/postal_code', '/body/location/state', '/body/schema_version']);
    const [event] = await h.leadEvents('h-bad');
    expect(event!.type).toBe('LeadRejected');
    expect(parseDistributionEvent('LeadRejected', event!.data)).toMatchObject({ lead_id: 'h-bad', received_via: 'http' });
  });

  it('answers an unknown niche with 400 UNKNOWN_NICHE', async () => {
    const res = await post('/v1/leads/approved', leadPayload('h-lost', 'nowhere'));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'UNKNOWN_NICHE', errors: [{ pointer: '/body/niche_id' }] });
  });

  it('accepts a lead once its niche exists, after an earlier rejection of the same lead', async () => {
    expect((await post('/v1/leads/approved', leadPayload('h-late', 'later'))).statusCode).toBe(400);
    h.niches.add('later', false);
    const res = await post('/v1/leads/approved', leadPayload('h-late', 'later'));
    expect(res.json()).toMatchObject({ status: 'accepted' });
    expect((await h.leadEvents('h-late')).map((e) => e.type)).toEqual(['LeadRejected', 'LeadApproved']);
  });

  it('answers bodies that are not JSON objects with 400, never 500', async () => {
    const broken = await post('/v1/leads/approved', '{"lead_id":', { 'content-type': 'application/json' });
    expect(broken.statusCode).toBe(400);
    expect(broken.headers['content-type']).toContain('application/problem+json');
    const array = await post('/v1/leads/approved', [1, 2]);
    expect(array.statusCode).toBe(400);
    expect(array.json().code).toBe('LEAD_INVALID');
    const text = await post('/v1/leads/approved', 'hello', { 'content-type': 'text/plain' });
    expect(text.statusCode).toBeGreaterThanOrEqual(400);
    expect(text.statusCode).toBeLessThan(500);
  });

  it('answers 503 when rotation cannot be reached, and records nothing', async () => {
    // A niche intake has not looked up yet: a cached one would need no rotation.
    h.niches.add('unasked', true);
    await h.niches.stop();
    try {
      const res = await post('/v1/leads/approved', leadPayload('h-wait', 'unasked'));
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe('ROTATION_UNAVAILABLE');
      expect(await h.leadEvents('h-wait')).toEqual([]);
    } finally {
      h.niches.start();
    }
  });
});

describe('POST /v1/leads/:id/distribute', () => {
  it('404 for an unknown lead, 409 for a rejected one, 400 for a bad id or body', async () => {
    const unknown = await post('/v1/leads/nope/distribute');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('LEAD_NOT_FOUND');
    const rejected = await post('/v1/leads/h-bad/distribute');
    expect(rejected.statusCode).toBe(409);
    expect(rejected.json().code).toBe('LEAD_NOT_APPROVED');
    expect((await post('/v1/leads/a%20b/distribute')).statusCode).toBe(400);
    expect((await post('/v1/leads/h-1/distribute', { request_id: 'x y' })).statusCode).toBe(400);
    expect((await post('/v1/leads/h-1/distribute', { surprise: true })).statusCode).toBe(400);
  });

  it('queues once, then already_queued while pending, queued again after a final failure, already_distributed after an outcome', async () => {
    await post('/v1/leads/approved', leadPayload('h-m', 'manual'));
    const queued = await post('/v1/leads/h-m/distribute');
    expect(queued.statusCode).toBe(202);
    const first = queued.json();
    expect(first).toMatchObject({ lead_id: 'h-m', status: 'queued' });
    expect((await post('/v1/leads/h-m/distribute')).json()).toEqual({ ...first, status: 'already_queued' });

    await fairnessRecords('h-m', 'DistributionFailed', first.request_id, false);
    expect((await post('/v1/leads/h-m/distribute')).json().status).toBe('already_queued');
    await fairnessRecords('h-m', 'DistributionFailed', first.request_id, true);
    const second = (await post('/v1/leads/h-m/distribute', { request_id: 'retry-1' })).json();
    expect(second).toEqual({ lead_id: 'h-m', status: 'queued', request_id: 'retry-1' });

    await fairnessRecords('h-m', 'DistributionCompleted', 'retry-1');
    expect((await post('/v1/leads/h-m/distribute')).json()).toEqual({ lead_id: 'h-m', status: 'already_distributed', request_id: 'retry-1' });

    const requests = (await h.leadEvents('h-m')).filter((e) => e.type === 'DistributionRequested').map((e) => parseDistributionEvent('DistributionRequested', e.data));
    expect(requests.map((r) => r.request_id)).toEqual([first.request_id, 'retry-1']);
    expect(requests[0]!.requested_by).toEqual({ actor_id: 'ops@x', actor_role: 'operator' });
  });

  it('concurrent triggers queue exactly one request', async () => {
    await post('/v1/leads/approved', leadPayload('h-race', 'manual'));
    const answers = await Promise.all(Array.from({ length: 8 }, () => post('/v1/leads/h-race/distribute')));
    const statuses = answers.map((a) => a.json().status).sort();
    expect(statuses).toEqual(['already_queued', 'already_queued', 'already_queued', 'already_queued', 'already_queued', 'already_queued', 'already_queued', 'queued']);
    expect(new Set(answers.map((a) => a.json().request_id)).size).toBe(1);
    expect((await h.leadEvents('h-race')).filter((e) => e.type === 'DistributionRequested')).toHaveLength(1);
  });
});

describe('who may call', () => {
  it('approving needs an upstream API key (not a JWT), and records the key as the actor', async () => {
    expectProblem(await send('/v1/leads/approved', leadPayload('h-anon', 'auto'), {}), 401, 'API_KEY_MISSING');
    expectProblem(await send('/v1/leads/approved', leadPayload('h-anon', 'auto'), { 'x-api-key': 'a-guess-that-is-long-enough-0123456789' }), 401, 'API_KEY_INVALID');
    expectProblem(await send('/v1/leads/approved', leadPayload('h-anon', 'auto'), { authorization: `Bearer ${await operatorToken({ roles: ['admin'] })}` }), 401, 'API_KEY_MISSING');
    expect(await h.leadEvents('h-anon')).toEqual([]);

    expect((await post('/v1/leads/approved', leadPayload('h-keyed', 'manual'))).statusCode).toBe(202);
    const [approved] = await h.leadEvents('h-keyed');
    expect(approved!.metadata).toMatchObject({ received_via: 'http', actor: { actor_id: 'upstream:test', actor_role: 'system' } });
  });

  it('requesting a distribution needs an operator JWT with MFA; the actor is its subject, never the body', async () => {
    await post('/v1/leads/approved', leadPayload('h-who', 'manual'));
    expectProblem(await send('/v1/leads/h-who/distribute', undefined, {}), 401, 'TOKEN_MISSING');
    expectProblem(await send('/v1/leads/h-who/distribute', undefined, { ...upstreamHeaders }), 401, 'TOKEN_MISSING');
    expectProblem(await send('/v1/leads/h-who/distribute', undefined, { authorization: `Bearer ${await operatorToken({ roles: ['viewer'] })}` }), 403, 'ROLE_INSUFFICIENT');
    expectProblem(await send('/v1/leads/h-who/distribute', undefined, { authorization: `Bearer ${await operatorToken({ mfa: false })}` }), 403, 'MFA_REQUIRED');
    const forged = await post('/v1/leads/h-who/distribute', { actor: { actor_id: 'cfo@fairlead', actor_role: 'admin' } });
    expectProblem(forged, 400, 'VALIDATION_FAILED');
    expect((await h.leadEvents('h-who')).map((e) => e.type)).toEqual(['LeadApproved']);

    const queued = await send('/v1/leads/h-who/distribute', undefined, { authorization: `Bearer ${await operatorToken({ sub: 'dana@ops', roles: ['admin'] })}` });
    expect(queued.statusCode).toBe(202);
    const request = (await h.leadEvents('h-who')).find((e) => e.type === 'DistributionRequested')!;
    expect(parseDistributionEvent('DistributionRequested', request.data).requested_by).toEqual({ actor_id: 'dana@ops', actor_role: 'admin' });
    expect(request.metadata.actor).toEqual({ actor_id: 'dana@ops', actor_role: 'admin' });
  });
});

describe('hostile leads', () => {
  it('a NUL character or an unpaired surrogate over HTTP: 400 LEAD_INVALID naming the field, the rejection recorded (as for NATS), nothing approved', async () => {
    const nul = await post('/v1/leads/approved', { ...leadPayload('h-nul', 'auto'), consumer: { name: 'Ada\u0000', email: 'ada@example.com' } });
    expectProblem(nul, 400, 'LEAD_INVALID');
    expect(nul.json().errors).toEqual([expect.objectContaining({ pointer: '/body/consumer/name', detail: expect.stringMatching(/NUL/) })]);
    const lone = await post('/v1/leads/approved', { ...leadPayload('h-lone', 'auto'), details: { note: 'half an emoji \ud83d' } });
    expectProblem(lone, 400, 'LEAD_INVALID');
    for (const leadId of ['h-nul', 'h-lone']) {
      const events = await h.leadEvents(leadId);
      expect(events.map((e) => e.type)).toEqual(['LeadRejected']);
      // What was sent cannot be stored as is: its summary is.
      expect(parseDistributionEvent('LeadRejected', events[0]!.data).payload_summary?.prefix).toContain(leadId);
    }
  });

  it('a NUL in the query of a route is refused by the HTTP layer before the route', async () => {
    expectProblem(await post('/v1/leads/h-1/distribute?x=%00'), 400, 'UNSAFE_TEXT');
  });
});
