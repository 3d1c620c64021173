import { describe, expect, it } from 'vitest';
import type { Actor } from '@fairlead/contracts';
import { SubscriptionCancelledError, SubscriptionExistsError, SubscriptionNotFoundError, SubscriptionVersionConflictError } from './errors';
import { decideSubscription, evolveSubscription, type SubscriptionCommand, type SubscriptionEvent, type SubscriptionState } from './subscription';

const actor: Actor = { actor_id: 'op-1', actor_role: 'operator' };
const create: Extract<SubscriptionCommand, { type: 'create' }> = {
  type: 'create',
  subscription_id: 's1',
  provider_id: 'p1',
  niche_id: 'n1',
  level_id: 'l1',
  service_area: { postal_codes: ['94110'], states: [] },
  daily_cap: 3,
  monthly_cap: null,
  actor,
};

function given(...events: SubscriptionEvent[]): SubscriptionState {
  return events.reduce<SubscriptionState>((s, e, i) => evolveSubscription(s, e, i), null);
}
const created = (): SubscriptionEvent[] => decideSubscription(create, null);

describe('subscription', () => {
  it('when created, then it starts active with its area and caps', () => {
    expect(created()).toEqual([
      {
        type: 'SubscriptionCreated',
        data: { subscription_id: 's1', provider_id: 'p1', niche_id: 'n1', level_id: 'l1', service_area: create.service_area, daily_cap: 3, monthly_cap: null, status: 'active', actor },
      },
    ]);
    expect(given(...created())).toMatchObject({ status: 'active', daily_cap: 3, version: 0 });
  });

  it('given it exists, when the same create is retried, then nothing happens; with other values it is refused', () => {
    const state = given(...created());
    expect(decideSubscription(create, state)).toEqual([]);
    expect(() => decideSubscription({ ...create, level_id: 'l2' }, state)).toThrow(SubscriptionExistsError);
  });

  it('when changing an unknown subscription, then SUBSCRIPTION_NOT_FOUND', () => {
    expect(() => decideSubscription({ type: 'change', subscription_id: 's1', daily_cap: 1, actor }, null)).toThrow(SubscriptionNotFoundError);
  });

  it('when changing caps and area, then only what differs is recorded', () => {
    const state = given(...created());
    const events = decideSubscription({ type: 'change', subscription_id: 's1', daily_cap: 3, monthly_cap: 40, service_area: { postal_codes: ['94110'], states: [] }, actor }, state);
    expect(events).toEqual([{ type: 'SubscriptionChanged', data: { subscription_id: 's1', monthly_cap: 40, actor } }]);
    expect(given(...created(), ...events)).toMatchObject({ daily_cap: 3, monthly_cap: 40, version: 1 });
  });

  it('when a cap is removed (null), then it is recorded as null', () => {
    const events = decideSubscription({ type: 'change', subscription_id: 's1', daily_cap: null, actor }, given(...created()));
    expect(given(...created(), ...events)).toMatchObject({ daily_cap: null });
  });

  it('when the expected version is not the current one, then a version conflict', () => {
    const state = given(...created());
    expect(() => decideSubscription({ type: 'set_status', subscription_id: 's1', status: 'paused', reason: 'x', expected_version: 3, actor }, state)).toThrow(
      SubscriptionVersionConflictError,
    );
    expect(decideSubscription({ type: 'set_status', subscription_id: 's1', status: 'paused', reason: 'x', expected_version: 0, actor }, state)).toHaveLength(1);
  });

  it('when the status changes, then from and to are recorded; the same status changes nothing', () => {
    const state = given(...created());
    expect(decideSubscription({ type: 'set_status', subscription_id: 's1', status: 'active', reason: 'x', actor }, state)).toEqual([]);
    const events = decideSubscription({ type: 'set_status', subscription_id: 's1', status: 'paused', reason: 'vacation', actor }, state);
    expect(events).toEqual([
      { type: 'SubscriptionStatusChanged', data: { subscription_id: 's1', provider_id: 'p1', from: 'active', to: 'paused', reason: 'vacation', actor } },
    ]);
    expect(given(...created(), ...events)?.status).toBe('paused');
  });

  it('given billing paused it for low balance, then the state follows billing', () => {
    const lowBalance: SubscriptionEvent = {
      type: 'SubscriptionStatusChanged',
      data: { subscription_id: 's1', provider_id: 'p1', from: 'active', to: 'paused_low_balance', reason: 'balance', actor: { actor_id: 'billing', actor_role: 'system' } },
    };
    expect(given(...created(), lowBalance)).toMatchObject({ status: 'paused_low_balance', version: 1 });
  });

  it('given it is cancelled, then it can be neither changed nor reactivated', () => {
    const cancel = decideSubscription({ type: 'set_status', subscription_id: 's1', status: 'cancelled', reason: 'gone', actor }, given(...created()));
    const state = given(...created(), ...cancel);
    expect(() => decideSubscription({ type: 'set_status', subscription_id: 's1', status: 'active', reason: 'back', actor }, state)).toThrow(SubscriptionCancelledError);
    expect(() => decideSubscription({ type: 'change', subscription_id: 's1', daily_cap: 1, actor }, state)).toThrow(SubscriptionCancelledError);
  });
});
