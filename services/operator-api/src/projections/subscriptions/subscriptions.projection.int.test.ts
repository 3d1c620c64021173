import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import { event } from '../../testing/events';
import { startProjectionHarness, type ProjectionHarness } from '../../testing/projection-harness';
import { subscriptionsProjection } from './subscriptions.projection';
import { findSubscription, listSubscriptions } from './subscriptions.queries';

let h: ProjectionHarness;
const admin = { actor_id: 'alice', actor_role: 'admin' } as const;

beforeAll(async () => {
  h = await startProjectionHarness('op_subscriptions');
  const base = { niche_id: 'roofing', level_id: 'roofing-l1', daily_cap: 5, monthly_cap: null, status: 'active' as const, actor: admin };
  await h.append(streams.subscription('s1'), [
    event('SubscriptionCreated', { ...base, subscription_id: 's1', provider_id: 'p1', service_area: { postal_codes: ['94110'], states: [] } }),
    event('SubscriptionChanged', { subscription_id: 's1', service_area: { postal_codes: [], states: ['CA', 'NV'] }, daily_cap: null, actor: admin }),
    event('SubscriptionStatusChanged', { subscription_id: 's1', provider_id: 'p1', from: 'active', to: 'paused_low_balance', reason: 'balance below price', actor: SYSTEM_ACTOR }),
  ]);
  await h.append(streams.subscription('s2'), [event('SubscriptionCreated', { ...base, subscription_id: 's2', provider_id: 'p2', service_area: { postal_codes: [], states: ['TX'] } })]);
  await h.project(subscriptionsProjection);
});
afterAll(async () => {
  await h.close();
});

describe('operator.subscriptions', () => {
  it('applies area and cap changes (null removes a cap) and status moves, keeping the version', async () => {
    expect(await findSubscription(h.pool, 's1')).toMatchObject({
      postal_codes: [],
      states: ['CA', 'NV'],
      daily_cap: null,
      status: 'paused_low_balance',
      status_reason: 'balance below price',
      version: 2,
    });
  });

  it('filters by provider and status', async () => {
    expect((await listSubscriptions(h.pool, { status: 'active', limit: 10 })).items.map((s) => s.subscription_id)).toEqual(['s2']);
    expect((await listSubscriptions(h.pool, { provider_id: 'p1', limit: 10 })).items.map((s) => s.subscription_id)).toEqual(['s1']);
    const page = await listSubscriptions(h.pool, { limit: 1 });
    expect((await listSubscriptions(h.pool, { limit: 1, cursor: page.next_cursor! })).items.map((s) => s.subscription_id)).toEqual(['s2']);
  });

  it('changes nothing when the whole log is replayed', async () => {
    const before = await h.dump(['operator.subscriptions']);
    await h.replay(subscriptionsProjection);
    expect(await h.dump(['operator.subscriptions'])).toBe(before);
  });
});
