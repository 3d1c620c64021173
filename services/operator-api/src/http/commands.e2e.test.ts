/**
 * Changes through the API reach the real owning services, each its own process over
 * NATS: rotation (niches, levels) and fairness (subscriptions). ETag = the owner's stream
 * version; a stale If-Match is 412; the read models and the audit log follow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceProcesses, testNatsUrl, type ServiceProcess } from '@fairlead/testing';
import { startApiHarness, type ApiHarness } from '../testing/api-harness';

let h: ApiHarness;
const services: ServiceProcess[] = [];
const admin = { roles: ['admin'] as const, sub: 'alice' };

beforeAll(async () => {
  // Fairness waits up to 3 s for a level it has not projected yet before answering LEVEL_NOT_FOUND.
  h = await startApiHarness('op_e2e', { commandTimeoutMs: 5_000 });
  const env = { DATABASE_URL: h.db.url, NATS_URL: testNatsUrl(), NATS_NAMESPACE: h.subjects.namespace };
  services.push(...(await startServiceProcesses(['rotation', 'fairness'].map((service) => ({ service, env })))));
});
afterAll(async () => {
  await Promise.allSettled(services.map((s) => s.stop()));
  await h.close();
});

const json = <T = Record<string, unknown>>(res: { json: <U>() => U }) => res.json<T>();

describe('niches and levels through rotation', () => {
  it('creates, reads and updates with ETags; a stale If-Match gets 412 and changes nothing', async () => {
    const created = await h.call('POST', '/api/v1/admin/niches', { ...admin, body: { niche_id: 'roofing', name: 'Roofing' } });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers.etag).toBe('"0"');
    expect(json(created)).toMatchObject({ niche_id: 'roofing', name: 'Roofing', version: 0, levels: [] });

    const l1 = await h.call('POST', '/api/v1/admin/niches/roofing/levels', { ...admin, body: { level_id: 'roofing-l1', name: 'Gold', order_position: 1, max_recipients: 2, price_per_lead_cents: 4_900 } });
    expect(l1.statusCode, l1.body).toBe(201);
    const l2 = await h.call('POST', '/api/v1/admin/niches/roofing/levels', { ...admin, body: { level_id: 'roofing-l2', name: 'Silver', order_position: 2, max_recipients: 3, price_per_lead_cents: 2_900 } });
    expect(l2.headers.etag).toBe('"2"');
    const taken = await h.call('POST', '/api/v1/admin/niches/roofing/levels', { ...admin, body: { name: 'Bronze', order_position: 2, max_recipients: 3, price_per_lead_cents: 900 } });
    expect(taken.statusCode, taken.body).toBe(409);

    await h.api.caughtUp();
    const read = await h.call('GET', '/api/v1/admin/niches/roofing', { roles: ['viewer'] });
    expect(read.headers.etag).toBe('"2"');
    expect(json<{ levels: { name: string }[] }>(read).levels.map((l) => l.name)).toEqual(['Gold', 'Silver']);

    const renamed = await h.call('PATCH', '/api/v1/admin/niches/roofing', { ...admin, body: { name: 'Roofs' }, headers: { 'if-match': read.headers.etag as string } });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.headers.etag).toBe('"3"');

    const stale = await h.call('PATCH', '/api/v1/admin/niches/roofing', { ...admin, body: { name: 'Lost update' }, headers: { 'if-match': '"2"' } });
    expect(stale.statusCode, stale.body).toBe(412);
    expect(stale.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(json(stale)).toMatchObject({ code: 'STALE_ETAG' });

    const flag = await h.call('PUT', '/api/v1/admin/niches/roofing/auto-distribution', { ...admin, body: { enabled: false }, headers: { 'if-match': '"3"' } });
    expect(json(flag)).toMatchObject({ name: 'Roofs', auto_distribute: false, version: 4 });
    const level = await h.call('PATCH', '/api/v1/admin/niches/roofing/levels/roofing-l2', { ...admin, body: { price_per_lead_cents: 3_100 }, headers: { 'if-match': '"4"' } });
    expect(json<{ levels: { price_per_lead_cents: number }[] }>(level).levels[1]!.price_per_lead_cents).toBe(3_100);

    expect((await h.call('PATCH', '/api/v1/admin/niches/nowhere', { ...admin, body: { name: 'X' }, headers: { 'if-match': '"0"' } })).statusCode).toBe(404);

    await h.api.caughtUp();
    expect(json(await h.call('GET', '/api/v1/admin/niches/roofing', { roles: ['viewer'] }))).toMatchObject({ name: 'Roofs', auto_distribute: false, version: 5 });
    expect((await h.store.readStream('niche-roofing')).map((e) => e.type)).not.toContain('Lost update');
  });
});

describe('subscriptions through fairness', () => {
  it('creates, changes and pauses with ETags; a stale If-Match gets 412', async () => {
    const created = await h.call('POST', '/api/v1/admin/subscriptions', {
      ...admin,
      body: { subscription_id: 'sub-1', provider_id: 'p1', niche_id: 'roofing', level_id: 'roofing-l1', service_area: { states: ['ca'] }, daily_cap: 5 },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers.etag).toBe('"0"');
    expect(json(created)).toMatchObject({ service_area: { postal_codes: [], states: ['CA'] }, daily_cap: 5, status: 'active' });

    const changed = await h.call('PATCH', '/api/v1/admin/subscriptions/sub-1', { ...admin, body: { daily_cap: null, monthly_cap: 40 }, headers: { 'if-match': '"0"' } });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.headers.etag).toBe('"1"');
    const stale = await h.call('PATCH', '/api/v1/admin/subscriptions/sub-1', { ...admin, body: { daily_cap: 9 }, headers: { 'if-match': '"0"' } });
    expect(stale.statusCode, stale.body).toBe(412);

    const paused = await h.call('PUT', '/api/v1/admin/subscriptions/sub-1/status', { ...admin, body: { status: 'paused', reason: 'holiday' }, headers: { 'if-match': '"1"' } });
    expect(json(paused)).toMatchObject({ status: 'paused', daily_cap: null, monthly_cap: 40, version: 2 });

    const unknownLevel = await h.call('POST', '/api/v1/admin/subscriptions', { ...admin, body: { provider_id: 'p1', niche_id: 'roofing', level_id: 'nope', service_area: { states: ['CA'] } } });
    expect(unknownLevel.statusCode, unknownLevel.body).toBe(404);

    await h.api.caughtUp();
    expect(json(await h.call('GET', '/api/v1/admin/subscriptions/sub-1', { roles: ['viewer'] }))).toMatchObject({ status: 'paused', version: 2 });
  });

  it('records every change with who made it in the audit log', async () => {
    await h.api.caughtUp();
    const audit = json<{ items: { action: string; actor: { actor_id: string; actor_role: string } }[] }>(await h.call('GET', '/api/v1/admin/audit-log?actor_id=alice&limit=100', { roles: ['viewer'] }));
    expect(audit.items.map((e) => e.action).reverse()).toEqual([
      'niche.created',
      'level.created',
      'level.created',
      'niche.updated',
      'niche.updated',
      'level.updated',
      'subscription.created',
      'subscription.updated',
      'subscription.status_changed',
    ]);
    expect(new Set(audit.items.map((e) => e.actor.actor_role))).toEqual(new Set(['admin']));
  });
});
