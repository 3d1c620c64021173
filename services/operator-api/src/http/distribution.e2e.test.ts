/**
 * An operator runs a whole distribution through the API, every owning service a real
 * process over NATS (rotation, billing, fairness, intake, relay): set up a niche,
 * providers, funds and subscriptions; a lead approved upstream; a manual distribution
 * (202) followed in the status endpoint until it succeeds; assignments, the decision
 * record, a second trigger that distributes nothing, a refund, and the audit trail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intakeCommands } from '@fairlead/contracts';
import { request } from '@fairlead/messaging';
import { startServiceProcesses, testNatsUrl, waitFor, type ServiceProcess } from '@fairlead/testing';
import { AUDIENCE, ISSUER, startApiHarness, type ApiHarness } from '../testing/api-harness';

let h: ApiHarness;
const services: ServiceProcess[] = [];
const admin = { roles: ['admin'] as const, sub: 'alice' };
const operator = { roles: ['operator'] as const, sub: 'olga' };
const viewer = { roles: ['viewer'] as const };

beforeAll(async () => {
  h = await startApiHarness('op_flow', { commandTimeoutMs: 5_000 });
  // Intake's HTTP credentials (not used here) are given, so that it creates no development ones under .data.
  const credentials = { JWT_SECRET: h.secret, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, UPSTREAM_API_KEYS: `e2e=${h.secret}` };
  const env = { DATABASE_URL: h.db.url, NATS_URL: testNatsUrl(), NATS_NAMESPACE: h.subjects.namespace, ...credentials };
  // Five tsx processes starting at once on a loaded machine take longer than one alone.
  services.push(...(await startServiceProcesses(['rotation', 'billing', 'fairness', 'intake', 'relay'].map((service) => ({ service, env, readyTimeoutMs: 120_000 })))));
}, 180_000);
afterAll(async () => {
  await Promise.allSettled(services.map((s) => s.stop()));
  await h.close();
});

async function ok<T = Record<string, unknown>>(method: string, url: string, options: Parameters<ApiHarness['call']>[2], status = 200): Promise<T> {
  const res = await h.call(method, url, options);
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(status);
  return res.json<T>();
}

describe('a distribution run by an operator', () => {
  it('sets up the niche, providers, funds and subscriptions', async () => {
    await ok('POST', '/api/v1/admin/niches', { ...admin, body: { niche_id: 'flow', name: 'Flow', auto_distribute: false } }, 201);
    await ok('POST', '/api/v1/admin/niches/flow/levels', { ...admin, body: { level_id: 'flow-gold', name: 'Gold', order_position: 1, max_recipients: 1, price_per_lead_cents: 1_000 } }, 201);
    await ok('POST', '/api/v1/admin/niches/flow/levels', { ...admin, body: { level_id: 'flow-silver', name: 'Silver', order_position: 2, max_recipients: 1, price_per_lead_cents: 2_000 } }, 201);
    for (const [id, name] of [['pa', 'ABC Movers'], ['pb', 'Best Movers']] as const) {
      expect(await ok('POST', '/api/v1/admin/providers', { ...admin, body: { provider_id: id, name, email: `${id}@example.com` } }, 201)).toMatchObject({ balance_cents: 0, version: 0 });
      expect(await ok('POST', `/api/v1/admin/providers/${id}/wallet/top-ups`, { ...operator, body: { amount_cents: 5_000, reference: 'invoice 1' } })).toMatchObject({ balance_cents: 5_000 });
    }
    // A retried top-up with the same Idempotency-Key tops up once; the key for another amount is a conflict.
    await ok('POST', '/api/v1/admin/providers', { ...admin, body: { provider_id: 'pc', name: 'Careful Crates', email: 'pc@example.com' } }, 201);
    const retried = { ...operator, body: { amount_cents: 2_500, reference: 'invoice 2' }, headers: { 'idempotency-key': 'pc-invoice-2' } };
    expect(await ok('POST', '/api/v1/admin/providers/pc/wallet/top-ups', retried)).toMatchObject({ balance_cents: 2_500 });
    expect(await ok('POST', '/api/v1/admin/providers/pc/wallet/top-ups', retried)).toMatchObject({ balance_cents: 2_500 });
    const reused = await h.call('POST', '/api/v1/admin/providers/pc/wallet/top-ups', { ...retried, body: { amount_cents: 9_999, reference: 'invoice 2' } });
    expect(reused.statusCode, reused.body).toBe(409);
    expect(reused.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    const renamed = await h.call('PATCH', '/api/v1/admin/providers/pa', { ...admin, body: { name: 'ABC Movers Inc' }, headers: { 'if-match': '"0"' } });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.headers.etag).toBe('"1"');
    expect((await h.call('PATCH', '/api/v1/admin/providers/pa', { ...admin, body: { name: 'Lost' }, headers: { 'if-match': '"0"' } })).statusCode).toBe(412);

    await ok('POST', '/api/v1/admin/subscriptions', { ...admin, body: { provider_id: 'pa', niche_id: 'flow', level_id: 'flow-gold', service_area: { states: ['CA'] } } }, 201);
    await ok('POST', '/api/v1/admin/subscriptions', { ...admin, body: { provider_id: 'pb', niche_id: 'flow', level_id: 'flow-silver', service_area: { postal_codes: ['94110'] } } }, 201);
  });

  it('queues a manual distribution (202) and shows it through to success', async () => {
    const approval = await request(
      h.nc,
      h.subjects.command('intake', 'approve_lead'),
      {
        schema_version: 1,
        lead_id: 'lead-42',
        niche_id: 'flow',
        approved_at: new Date().toISOString(),
        consumer: { name: 'Ada', email: 'ada@example.com' },
        location: { postal_code: '94110', state: 'CA' },
        details: {},
      },
      { responseSchema: intakeCommands.approve_lead.reply },
    );
    expect(approval).toMatchObject({ status: 'accepted', distribution_requested: false });
    await h.api.caughtUp();
    expect(await ok('GET', '/api/v1/admin/leads/lead-42/distribution-status', viewer)).toMatchObject({ lead_status: 'approved', last_attempt_status: 'none' });

    expect(await ok('POST', '/api/v1/admin/leads/lead-42/distribute', operator, 202)).toMatchObject({ lead_id: 'lead-42', status: 'queued', message: 'Distribution job queued successfully' });

    const status = await waitFor(
      async () => {
        await h.api.caughtUp();
        const s = await ok<{ last_attempt_status: string }>('GET', '/api/v1/admin/leads/lead-42/distribution-status', viewer);
        return s.last_attempt_status === 'success' ? s : undefined;
      },
      { timeoutMs: 30_000, what: 'the distribution of lead-42 to succeed' },
    );
    expect(status).toMatchObject({ lead_status: 'distributed', assignments_created: 2, start_level_order_position: 1, queue_state: 'completed', outcome: 'success' });
  });

  it('lists the assignments and explains the decision', async () => {
    const page = await ok<{ total: number; items: { provider_name: string; level_name: string; price_charged: number; status: string }[] }>('GET', '/api/v1/admin/leads/lead-42/assignments?page=1&limit=50', viewer);
    expect(page.total).toBe(2);
    expect(page.items.map((a) => [a.provider_name, a.level_name, a.price_charged, a.status]).sort()).toEqual([
      ['ABC Movers Inc', 'Gold', 10, 'active'],
      ['Best Movers', 'Silver', 20, 'active'],
    ]);
    const record = await ok<{ levels: { name: string; rounds: { candidates: { provider_id: string; decision: string }[] }[] }[] }>('GET', '/api/v1/admin/leads/lead-42/decision-record', viewer);
    expect(record.levels.map((l) => [l.name, l.rounds[0]!.candidates.map((c) => `${c.provider_id}:${c.decision}`)])).toEqual([
      ['Gold', ['pa:chosen']],
      ['Silver', ['pb:chosen']],
    ]);
  });

  it('answers a second trigger without distributing again', async () => {
    expect(await ok('POST', '/api/v1/admin/leads/lead-42/distribute', operator)).toMatchObject({ status: 'already_distributed' });
    expect((await h.store.readStream('lead-lead-42')).filter((e) => e.type === 'DistributionRequested')).toHaveLength(1);
  });

  it('refunds a returned lead once, and the read models and audit follow', async () => {
    expect(await ok('POST', '/api/v1/admin/providers/pa/wallet/refunds', { ...admin, body: { lead_id: 'lead-42', reason: 'consumer unreachable' } })).toMatchObject({ balance_cents: 5_000 });
    const again = await h.call('POST', '/api/v1/admin/providers/pa/wallet/refunds', { ...admin, body: { lead_id: 'lead-42', reason: 'again' } });
    expect(again.statusCode, again.body).toBe(409);

    await h.api.caughtUp();
    const ledger = await ok<{ items: { kind: string; amount_cents: number }[] }>('GET', '/api/v1/admin/providers/pa/wallet/ledger', viewer);
    expect(ledger.items.map((e) => [e.kind, e.amount_cents])).toEqual([
      ['refund', 1_000],
      ['charge', -1_000],
      ['top_up', 5_000],
    ]);
    const refunded = await ok<{ items: { provider_id: string; status: string }[] }>('GET', '/api/v1/admin/assignments?status=refunded', viewer);
    expect(refunded.items.map((a) => a.provider_id)).toEqual(['pa']);

    const audit = await ok<{ items: { action: string; actor: { actor_id: string } }[] }>('GET', '/api/v1/admin/audit-log?lead_id=lead-42&limit=100', viewer);
    const trail = audit.items.map((e) => `${e.action}:${e.actor.actor_id}`).reverse();
    expect(trail).toEqual(
      expect.arrayContaining(['lead.approved:system', 'distribution.requested:olga', 'distribution.started:system', 'assignment.created:system', 'distribution.completed:system', 'wallet.refunded:alice']),
    );
    expect(trail.indexOf('distribution.requested:olga')).toBeLessThan(trail.indexOf('distribution.started:system'));
  });
});
