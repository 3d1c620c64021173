import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import { approved, at, event, level, partialDistribution, requested } from '../../testing/events';
import { QUEUE_STATES } from '../../projections/leads/leads.projection';
import { startApiHarness, type ApiHarness } from '../../testing/api-harness';

let h: ApiHarness;
const viewer = { roles: ['viewer'] as const };

beforeAll(async () => {
  h = await startApiHarness('op_leads_routes');
  await h.append(streams.provider('p1'), [event('ProviderRegistered', { provider_id: 'p1', name: 'ABC Movers', email: 'abc@example.com', actor: SYSTEM_ACTOR })]);
  await h.append(streams.lead('lead-done'), partialDistribution('lead-done', 'moving').events);
  await h.append(streams.lead('lead-waiting'), [approved('lead-waiting', 'moving'), requested('lead-waiting', 'moving', 'r-1')]);
  await h.append(streams.lead('lead-new'), [approved('lead-new', 'moving')]);
  await h.appendAndProject(streams.lead('lead-rejected'), [
    event('LeadRejected', { lead_id: 'lead-rejected', niche_id: 'moving', reasons: ['consumer: needs an email or a phone'], payload: {}, received_via: 'http' }),
  ]);
});
afterAll(async () => {
  await h.close();
});

describe('GET /api/v1/admin/leads/:id/distribution-status', () => {
  it("answers the documented shape (docs/operator-api.md) for a distributed lead", async () => {
    const res = await h.call('GET', '/api/v1/admin/leads/lead-done/distribution-status', viewer);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      lead_id: 'lead-done',
      lead_status: 'distributed',
      last_attempt_at: at(5),
      last_attempt_status: 'success',
      assignments_created: 2,
      start_level_order_position: 2,
      notes: 'Distribution completed with 2 assignments, 1 provider skipped.',
      queue_state: 'completed',
      outcome: 'partial',
      attempts: 1,
      last_error: null,
    });
  });

  it('reflects a queued work item, a lead never requested, and an unknown lead', async () => {
    expect((await h.call('GET', '/api/v1/admin/leads/lead-waiting/distribution-status', viewer)).json()).toMatchObject({
      lead_status: 'approved',
      last_attempt_status: 'queued',
      queue_state: 'queued',
      assignments_created: 0,
    });
    expect((await h.call('GET', '/api/v1/admin/leads/lead-new/distribution-status', viewer)).json()).toMatchObject({ last_attempt_status: 'none', queue_state: 'none' });
    const unknown = await h.call('GET', '/api/v1/admin/leads/nope/distribution-status', viewer);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'LEAD_NOT_FOUND' });
  });
});

describe('GET /api/v1/admin/leads/:id/assignments', () => {
  it('pages newest first with provider name, level name and the price in dollars', async () => {
    const first = await h.call('GET', '/api/v1/admin/leads/lead-done/assignments?page=1&limit=1', viewer);
    expect(first.statusCode).toBe(200);
    const body = first.json<{ items: unknown[]; next_cursor: string }>();
    expect(body).toMatchObject({ lead_id: 'lead-done', page: 1, limit: 1, total: 2 });
    expect(body.items).toEqual([
      {
        assignment_id: 'lead-done-a2',
        lead_id: 'lead-done',
        niche_id: 'moving',
        provider_id: 'p2',
        provider_name: null,
        subscription_id: 'p2-moving-l1',
        competition_level_id: 'moving-l1',
        level_name: 'Level 1',
        level_order_position: 1,
        price_charged: 10,
        price_charged_cents: 1_000,
        assigned_at: at(4),
        status: 'active',
      },
    ]);
    const second = await h.call('GET', '/api/v1/admin/leads/lead-done/assignments?page=2&limit=1', viewer);
    expect(second.json()).toMatchObject({ page: 2, items: [{ assignment_id: 'lead-done-a1', provider_name: 'ABC Movers', price_charged: 25 }], next_cursor: null });
    // The cursor the first page handed out reaches the same second page.
    const viaCursor = await h.call('GET', `/api/v1/admin/leads/lead-done/assignments?limit=1&cursor=${body.next_cursor}`, viewer);
    expect(viaCursor.json()).toMatchObject({ page: null, total: null, items: [{ assignment_id: 'lead-done-a1' }] });
  });

  it('tells the total on a page past the end', async () => {
    expect((await h.call('GET', '/api/v1/admin/leads/lead-done/assignments?page=9&limit=1', viewer)).json()).toMatchObject({ total: 2, items: [], next_cursor: null });
  });

  it('rejects a page out of range and a cursor it did not issue (400)', async () => {
    expect((await h.call('GET', '/api/v1/admin/leads/lead-done/assignments?page=0', viewer)).statusCode).toBe(400);
    const bad = await h.call('GET', '/api/v1/admin/leads/lead-done/assignments?cursor=bm9wZQ', viewer);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'INVALID_CURSOR' });
  });
});

describe('GET /api/v1/admin/leads', () => {
  it('filters by status, niche and time and pages with a cursor', async () => {
    const distributed = await h.call('GET', '/api/v1/admin/leads?status=distributed', viewer);
    expect(distributed.json<{ items: { lead_id: string }[] }>().items.map((l) => l.lead_id)).toEqual(['lead-done']);
    const first = await h.call('GET', '/api/v1/admin/leads?niche_id=moving&limit=2', viewer);
    const page1 = first.json<{ items: { lead_id: string }[]; next_cursor: string }>();
    expect(page1.items).toHaveLength(2);
    const page2 = (await h.call('GET', `/api/v1/admin/leads?niche_id=moving&limit=2&cursor=${page1.next_cursor}`, viewer)).json<{ items: { lead_id: string }[]; next_cursor: null }>();
    expect([...page1.items, ...page2.items].map((l) => l.lead_id).sort()).toEqual(['lead-done', 'lead-new', 'lead-rejected', 'lead-waiting']);
    expect(page2.next_cursor).toBeNull();
    const future = await h.call('GET', `/api/v1/admin/leads?from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`, viewer);
    expect(future.json()).toEqual({ items: [], next_cursor: null });
    expect((await h.call('GET', '/api/v1/admin/leads?status=lost', viewer)).statusCode).toBe(400);
  });
});

describe('GET /api/v1/admin/leads?queue_state=…', () => {
  type Summary = { lead_id: string; queue_state: string };
  const failedFinally = (id: string, attempt: number, failedAt: string) =>
    event('DistributionFailed', { lead_id: id, niche_id: 'moving', request_id: 'r-1', attempt, error: 'billing down', final: true, failed_at: failedAt });
  /** The event the API records when an operator redrives a lead's dead-lettered request (dead-letters.routes.ts). */
  const redriven = (seq: number, id: string, when: string) =>
    event('DeadLetterRedriven', {
      seq,
      original_subject: 'fairlead.events.lead',
      event_type: 'DistributionRequested',
      lead_id: id,
      reason: 'permanent',
      error: 'billing down',
      actor: { actor_id: 'olga', actor_role: 'operator' },
      at: when,
      republished_to: 'fairlead.events.lead',
      stream_seq: seq,
      msg_id: `redrive-${seq}`,
    });

  beforeAll(async () => {
    // Dead-lettered at minute 9, redriven at 20: shown as queued until its next attempt.
    await h.append(streams.lead('lead-redriven'), [approved('lead-redriven', 'moving'), requested('lead-redriven', 'moving', 'r-1'), failedFinally('lead-redriven', 6, at(9))]);
    await h.append(streams.deadLetter(1), [redriven(1, 'lead-redriven', at(20))]);
    // Dead-lettered, never redriven.
    await h.append(streams.lead('lead-dead'), [approved('lead-dead', 'moving'), requested('lead-dead', 'moving', 'r-1'), failedFinally('lead-dead', 6, at(9))]);
    // Redriven at 10, then failed for good again at 15: dead-lettered once more.
    await h.append(streams.lead('lead-dead-again'), [approved('lead-dead-again', 'moving'), requested('lead-dead-again', 'moving', 'r-1'), failedFinally('lead-dead-again', 6, at(9))]);
    await h.append(streams.deadLetter(2), [redriven(2, 'lead-dead-again', at(10))]);
    await h.appendAndProject(streams.lead('lead-dead-again'), [failedFinally('lead-dead-again', 12, at(15))]);
  });

  const list = async (query: string): Promise<Summary[]> => {
    const res = await h.call('GET', `/api/v1/admin/leads?limit=100${query}`, viewer);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ items: Summary[] }>().items;
  };

  it('selects exactly the leads whose shown queue_state is the one asked for (a redriven dead letter is queued)', async () => {
    const everyLead = await list('');
    expect(everyLead.find((l) => l.lead_id === 'lead-redriven')?.queue_state).toBe('queued');
    for (const state of QUEUE_STATES) {
      const filtered = await list(`&queue_state=${state}`);
      expect(filtered.map((l) => l.lead_id).sort(), state).toEqual(everyLead.filter((l) => l.queue_state === state).map((l) => l.lead_id).sort());
    }
    expect((await list('&queue_state=queued')).map((l) => l.lead_id).sort()).toEqual(['lead-redriven', 'lead-waiting']);
    expect((await list('&queue_state=dead_lettered')).map((l) => l.lead_id).sort()).toEqual(['lead-dead', 'lead-dead-again']);
    // The filter combines with the others and keeps paging.
    const page1 = (await h.call('GET', '/api/v1/admin/leads?queue_state=queued&niche_id=moving&limit=1', viewer)).json<{ items: Summary[]; next_cursor: string }>();
    const page2 = (await h.call('GET', `/api/v1/admin/leads?queue_state=queued&niche_id=moving&limit=1&cursor=${page1.next_cursor}`, viewer)).json<{ items: Summary[]; next_cursor: null }>();
    expect([...page1.items, ...page2.items].map((l) => l.lead_id).sort()).toEqual(['lead-redriven', 'lead-waiting']);
    expect(page2.next_cursor).toBeNull();
  });

  it('refuses a value that is not a queue state, SQL in it, or two values at once (400, nothing listed)', async () => {
    for (const query of ['queue_state=QUEUED', `queue_state=${encodeURIComponent("queued' or '1'='1")}`, 'queue_state=queued&queue_state=dead_lettered', 'queue_state=']) {
      const res = await h.call('GET', `/api/v1/admin/leads?${query}`, viewer);
      expect(res.statusCode, query).toBe(400);
      expect(res.json(), query).not.toHaveProperty('items');
    }
  });
});

describe('GET /api/v1/admin/leads/:id/decision-record', () => {
  it('explains each level: candidates in LRU order, chosen or skipped and why', async () => {
    const res = await h.call('GET', '/api/v1/admin/leads/lead-done/decision-record', viewer);
    expect(res.statusCode).toBe(200);
    const record = res.json<{ start_order_position: number; levels: { order_position: number; rounds: { candidates: { provider_id: string; decision: string; reason: string | null }[] }[] }[] }>();
    expect(record.start_order_position).toBe(2);
    expect(record.levels.map((l) => l.order_position)).toEqual([2, 1]);
    expect(record.levels[0]!.rounds[0]!.candidates.map((c) => [c.provider_id, c.decision, c.reason])).toEqual([
      ['p3', 'skipped', 'insufficient_balance'],
      ['p1', 'not_picked', 'no free slot at this rank'],
    ]);
  });
});

describe('GET /api/v1/admin/leads/:id/decision-record, the bytes', () => {
  // The body as the API answered it when decision_rounds held copies of the events' lists
  // (before 764b919): reading them from the log instead must not change a byte.
  it('is byte for byte what it was when the rounds were copies', async () => {
    // Appended here, after the tests that list every lead.
    await h.appendAndProject(streams.lead('lead-golden'), partialDistribution('lead-golden', 'moving', '00000000-0000-4000-8000-00000000901d').events);
    const res = await h.call('GET', '/api/v1/admin/leads/lead-golden/decision-record', viewer);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(GOLDEN_BODY);
  });

  it('is a clear 500 naming the event when a round refers to an event the log does not hold', async () => {
    await h.db.pool.query(`insert into operator.decision_rounds (event_id, lead_id, level_id, order_position, round, recorded_at) values ('no-such-event', 'lead-golden', 'moving-l1', 1, 5, now())`);
    try {
      const res = await h.call('GET', '/api/v1/admin/leads/lead-golden/decision-record', viewer);
      expect(res.statusCode).toBe(500);
      expect(res.json()).toMatchObject({ status: 500, code: 'DECISION_ROUND_EVENT_MISSING', details: { lead_id: 'lead-golden', event_id: 'no-such-event' } });
    } finally {
      await h.db.pool.query(`delete from operator.decision_rounds where event_id = 'no-such-event'`);
    }
    expect((await h.call('GET', '/api/v1/admin/leads/lead-golden/decision-record', viewer)).body).toBe(GOLDEN_BODY);
    expect((await h.call('GET', '/api/v1/admin/leads/no-such-lead/decision-record', viewer)).json()).toMatchObject({ status: 404, code: 'DECISION_RECORD_NOT_FOUND' });
  });
});

describe('POST /api/v1/admin/leads/:id/distribute', () => {
  const operator = { roles: ['operator'] as const };

  it('is 404 for an unknown lead and 400 for a lead that is not approved', async () => {
    expect((await h.call('POST', '/api/v1/admin/leads/nope/distribute', operator)).json()).toMatchObject({ status: 404, code: 'LEAD_NOT_FOUND' });
    expect((await h.call('POST', '/api/v1/admin/leads/lead-rejected/distribute', operator)).json()).toMatchObject({ status: 400, code: 'LEAD_NOT_APPROVED' });
  });

  it('answers a distributed lead without asking anyone to distribute it again', async () => {
    // No intake runs in this test: an answer proves nothing was sent.
    const res = await h.call('POST', '/api/v1/admin/leads/lead-done/distribute', operator);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ lead_id: 'lead-done', status: 'already_distributed', request_id: null, message: 'The lead has already been distributed; it was not distributed again' });
    expect((await h.store.readStream(streams.lead('lead-done'))).filter((e) => e.type === 'DistributionRequested')).toHaveLength(1);
  });

  it('is 503 with nothing changed when intake is not running', async () => {
    const res = await h.call('POST', '/api/v1/admin/leads/lead-new/distribute', operator);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { service: 'intake' } });
  });
});

// Captured from the API at 764b919^ (PRINT of res.body), for the byte-for-byte test above.
describe('GET /api/v1/admin/leads/:id/decision-record, abused', () => {
  const record = (id: string) => h.call('GET', `/api/v1/admin/leads/${id}/decision-record`, viewer);
  // A problem+json answer of its own, never a stack or an SQL error.
  const expectProblem = (res: Awaited<ReturnType<typeof record>>, status: number, code?: string) => {
    expect(res.statusCode, res.body).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).not.toMatch(/\bat \S+ \(|node_modules|\.ts:\d+|syntax error|relation "/);
    expect(res.json()).not.toHaveProperty('stack');
    if (code) expect(res.json()).toMatchObject({ status, code });
  };

  it('refuses a lead id with SQL or path characters in it (400), the records as they were', async () => {
    for (const id of [
      encodeURIComponent("lead-golden' or '1'='1"),
      encodeURIComponent('lead-golden; drop table operator.decisions; --'),
      encodeURIComponent('../../healthz'),
      encodeURIComponent('lead-golden/../lead-done'),
      'lead-golden%00',
      'lead-golden%2F',
      'x'.repeat(129),
    ]) {
      expectProblem(await record(id), 400);
    }
    expect((await record('lead-golden')).body).toBe(GOLDEN_BODY);
  });

  it('shows a lead whose distribution started but chose no one yet: its levels, no rounds (200)', async () => {
    const traversal = [level('moving', 2, 1, 2_500), level('moving', 1, 1, 1_000)];
    await h.appendAndProject(streams.lead('lead-no-rounds'), [
      event('DistributionStarted', { lead_id: 'lead-no-rounds', niche_id: 'moving', request_id: 'r-no-rounds', attempt: 1, start_order_position: 2, traversal, started_at: at(2) }),
    ]);
    const res = await record('lead-no-rounds');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ lead_id: 'lead-no-rounds', outcome: null, completed_at: null, levels: traversal.map((l) => ({ level_id: l.level_id, rounds: [] })) });
  });

  it("is a clear 500 naming the event when a round's event was deleted from the log, or rewritten against its contract (by a superuser)", async () => {
    await h.appendAndProject(streams.lead('lead-tampered'), partialDistribution('lead-tampered', 'moving').events);
    const rounds = async () =>
      (await h.db.pool.query<{ event_id: string }>(`select event_id from operator.decision_rounds where lead_id = 'lead-tampered' order by order_position desc, round`)).rows.map((r) => r.event_id);
    const [first, second] = await rounds();
    expect((await record('lead-tampered')).statusCode).toBe(200);

    await h.db.pool.query(`update eventstore.events set data = jsonb_set(data, '{candidates,0,last_received_at}', '"yesterday"') where event_id = $1`, [second]);
    const invalid = await record('lead-tampered');
    expectProblem(invalid, 500, 'DECISION_ROUND_EVENT_INVALID');
    expect(invalid.json()).toMatchObject({ details: { lead_id: 'lead-tampered', event_id: second } });

    await h.db.pool.query(`delete from eventstore.events where event_id = $1`, [first]);
    const missing = await record('lead-tampered');
    expectProblem(missing, 500, 'DECISION_ROUND_EVENT_MISSING');
    // The first round in the record's order is the one reported.
    expect(missing.json()).toMatchObject({ details: { lead_id: 'lead-tampered', event_id: first } });
    expect(await rounds()).toHaveLength(3);
    // Other leads' records are untouched.
    expect((await record('lead-golden')).body).toBe(GOLDEN_BODY);
  });
});

const GOLDEN_BODY =
  '{"lead_id":"lead-golden","niche_id":"moving","request_id":"00000000-0000-4000-8000-00000000901d","start_order_position":2,"traversal":[{"level_id":"moving-l2","name":"Level 2","order_position":2,"max_recipients":1,"price_per_lead_cents":2500},{"level_id":"moving-l1","name":"Level 1","order_position":1,"max_recipients":1,"price_per_lead_cents":1000}],"started_at":"2026-01-05T10:02:00.000Z","outcome":"partial","completed_at":"2026-01-05T10:05:00.000Z","duration_ms":42,"levels":[{"level_id":"moving-l2","name":"Level 2","order_position":2,"max_recipients":1,"price_per_lead_cents":2500,"rounds":[{"round":0,"candidates":[{"rank":1,"provider_id":"p3","provider_name":null,"subscription_id":"p3-moving-l2","last_received_at":null,"decision":"skipped","reason":"insufficient_balance","detail":"balance 100 < price 2500","price_cents":2500,"assignment_id":null},{"rank":2,"provider_id":"p1","provider_name":"ABC Movers","subscription_id":"p1-moving-l2","last_received_at":"2026-01-05T09:00:00.000Z","decision":"not_picked","reason":"no free slot at this rank","detail":null,"price_cents":null,"assignment_id":null}],"excluded":[{"provider_id":"p9","provider_name":null,"subscription_id":"p9-moving-l2","reason":"ineligible_area"}]},{"round":1,"candidates":[{"rank":1,"provider_id":"p1","provider_name":"ABC Movers","subscription_id":"p1-moving-l2","last_received_at":"2026-01-05T09:00:00.000Z","decision":"chosen","reason":null,"detail":null,"price_cents":2500,"assignment_id":"lead-golden-a1"}],"excluded":[]}]},{"level_id":"moving-l1","name":"Level 1","order_position":1,"max_recipients":1,"price_per_lead_cents":1000,"rounds":[{"round":0,"candidates":[{"rank":1,"provider_id":"p2","provider_name":null,"subscription_id":"p2-moving-l1","last_received_at":"2026-01-05T08:30:00.000Z","decision":"chosen","reason":null,"detail":null,"price_cents":1000,"assignment_id":"lead-golden-a2"},{"rank":2,"provider_id":"p4","provider_name":null,"subscription_id":"p4-moving-l1","last_received_at":"2026-01-05T09:30:00.000Z","decision":"not_picked","reason":"no free slot at this rank","detail":null,"price_cents":null,"assignment_id":null}],"excluded":[{"provider_id":"p1","provider_name":"ABC Movers","subscription_id":"p1-moving-l1","reason":"already_assigned"}]}]}]}';
