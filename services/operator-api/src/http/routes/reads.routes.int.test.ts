/** The read side of niches, providers, wallets, subscriptions and the audit log, with ETags; If-Match rules of updates. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams } from '@fairlead/contracts';
import { event, level } from '../../testing/events';
import { startApiHarness, type ApiHarness } from '../../testing/api-harness';

let h: ApiHarness;
const viewer = { roles: ['viewer'] as const };
const admin = { actor_id: 'alice', actor_role: 'admin' } as const;

beforeAll(async () => {
  h = await startApiHarness('op_reads');
  const l1 = level('roofing', 1, 2, 1_000);
  await h.append(streams.niche('roofing'), [
    event('NicheCreated', { niche_id: 'roofing', name: 'Roofing', auto_distribute: true, actor: admin }),
    event('CompetitionLevelAdded', { ...l1, niche_id: 'roofing', active: true, actor: admin }),
  ]);
  await h.append(streams.provider('p1'), [event('ProviderRegistered', { provider_id: 'p1', name: 'Acme', email: 'acme@example.com', actor: admin })]);
  await h.append(streams.wallet('p1'), [event('WalletToppedUp', { provider_id: 'p1', amount_cents: 12_345, balance_after_cents: 12_345, reference: 'card', actor: { actor_id: 'olga', actor_role: 'operator' } })]);
  await h.appendAndProject(streams.subscription('s1'), [
    event('SubscriptionCreated', {
      subscription_id: 's1',
      provider_id: 'p1',
      niche_id: 'roofing',
      level_id: l1.level_id,
      service_area: { postal_codes: [], states: ['CA'] },
      daily_cap: null,
      monthly_cap: 20,
      status: 'active',
      actor: admin,
    }),
  ]);
});
afterAll(async () => {
  await h.close();
});

describe('reads', () => {
  it('serves a niche with its levels and its version as the ETag', async () => {
    const res = await h.call('GET', '/api/v1/admin/niches/roofing', viewer);
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"1"');
    expect(res.json()).toEqual({
      niche_id: 'roofing',
      name: 'Roofing',
      auto_distribute: true,
      next_start_order_position: 1,
      version: 1,
      levels: [{ level_id: 'roofing-l1', name: 'Level 1', order_position: 1, max_recipients: 2, price_per_lead_cents: 1_000, active: true }],
    });
    expect((await h.call('GET', '/api/v1/admin/niches', viewer)).json<{ items: unknown[] }>().items).toHaveLength(1);
  });

  it('serves providers with their balance, and a wallet with its ledger', async () => {
    const provider = await h.call('GET', '/api/v1/admin/providers/p1', viewer);
    expect(provider.headers.etag).toBe('"0"');
    expect(provider.json()).toEqual({ provider_id: 'p1', name: 'Acme', email: 'acme@example.com', balance_cents: 12_345, balance: 123.45, version: 0 });
    expect((await h.call('GET', '/api/v1/admin/providers/p1/wallet', viewer)).json()).toMatchObject({ balance_cents: 12_345, balance: 123.45, topped_up_cents: 12_345, version: 0 });
    expect((await h.call('GET', '/api/v1/admin/providers/p1/wallet/ledger', viewer)).json()).toMatchObject({
      provider_id: 'p1',
      items: [{ kind: 'top_up', amount_cents: 12_345, actor_id: 'olga' }],
      next_cursor: null,
    });
    expect((await h.call('GET', '/api/v1/admin/providers?q=acm', viewer)).json<{ items: unknown[] }>().items).toHaveLength(1);
    expect((await h.call('GET', '/api/v1/admin/providers/zzz/wallet', viewer)).statusCode).toBe(404);
  });

  it('serves subscriptions, filtered', async () => {
    const res = await h.call('GET', '/api/v1/admin/subscriptions/s1', viewer);
    expect(res.headers.etag).toBe('"0"');
    expect(res.json()).toMatchObject({ service_area: { postal_codes: [], states: ['CA'] }, monthly_cap: 20, status: 'active' });
    expect((await h.call('GET', '/api/v1/admin/subscriptions?status=paused', viewer)).json()).toEqual({ items: [], next_cursor: null });
  });

  it('serves the audit log with who did what', async () => {
    const res = await h.call('GET', '/api/v1/admin/audit-log?actor_id=olga', viewer);
    expect(res.json()).toMatchObject({ items: [{ action: 'wallet.topped_up', actor: { actor_id: 'olga', actor_role: 'operator' }, subject: 'provider:p1', source: 'event' }] });
    expect((await h.call('GET', '/api/v1/admin/audit-log?action=level.*', viewer)).json<{ items: unknown[] }>().items).toHaveLength(1);
  });
});

describe('updates and their preconditions', () => {
  const asAdmin = { roles: ['admin'] as const };

  it('requires If-Match (428) in the form of an ETag of ours (400)', async () => {
    const missing = await h.call('PATCH', '/api/v1/admin/niches/roofing', { ...asAdmin, body: { name: 'Roofs' } });
    expect(missing.statusCode).toBe(428);
    expect(missing.json()).toMatchObject({ code: 'PRECONDITION_REQUIRED' });
    const bad = await h.call('PATCH', '/api/v1/admin/subscriptions/s1', { ...asAdmin, body: { monthly_cap: 5 }, headers: { 'if-match': 'yesterday' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'INVALID_ETAG' });
  });

  it('answers 503 with nothing changed when the owning service is not running', async () => {
    const res = await h.call('PATCH', '/api/v1/admin/niches/roofing', { ...asAdmin, body: { name: 'Roofs' }, headers: { 'if-match': '"1"' } });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', details: { service: 'rotation' } });
    expect(await h.store.streamVersion(streams.niche('roofing'))).toBe(1);
  });

  it('validates bodies before sending anything (400 with pointers)', async () => {
    const res = await h.call('POST', '/api/v1/admin/providers/p1/wallet/top-ups', { roles: ['operator'], body: { amount_cents: -5 } });
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json())).toContain('/body/amount_cents');
  });
});
