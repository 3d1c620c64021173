import { describe, it } from 'vitest';
import type { Actor } from '@fairlead/contracts';
import { DeciderSpecification } from '@fairlead/event-sourcing/testing';
import { SubscriptionCancelledError, SubscriptionExistsError, SubscriptionNotFoundError, SubscriptionVersionConflictError } from './errors';
import type { SubscriptionEvent } from './subscription';
import { subscriptionDecider } from './subscription.decider';

const actor: Actor = { actor_id: 'op-1', actor_role: 'operator' };
const given = DeciderSpecification.for(subscriptionDecider);
const area = { postal_codes: ['94110'], states: [] };
const create = { type: 'create' as const, subscription_id: 's1', provider_id: 'p1', niche_id: 'n1', level_id: 'l1', service_area: area, daily_cap: 3, monthly_cap: null, actor };
const created: SubscriptionEvent = {
  type: 'SubscriptionCreated',
  data: { subscription_id: 's1', provider_id: 'p1', niche_id: 'n1', level_id: 'l1', service_area: area, daily_cap: 3, monthly_cap: null, actor, status: 'active' },
};
const paused: SubscriptionEvent = { type: 'SubscriptionStatusChanged', data: { subscription_id: 's1', provider_id: 'p1', from: 'active', to: 'paused', reason: 'op', actor } };
const setStatus = (status: 'active' | 'paused' | 'cancelled', expected_version?: number) => ({
  type: 'set_status' as const,
  subscription_id: 's1',
  status,
  reason: 'op',
  actor,
  ...(expected_version === undefined ? {} : { expected_version }),
});

describe('subscription decider', () => {
  it('given nothing, when created, then SubscriptionCreated, active; a repeat is nothing, other values SUBSCRIPTION_EXISTS', () => {
    given([]).when(create).then([created]);
    given([created]).when(create).thenNothingHappened();
    given([created]).when({ ...create, daily_cap: 4 }).thenThrows(SubscriptionExistsError);
  });

  it('changes only what differs, at the version the caller decided on', () => {
    given([created])
      .when({ type: 'change', subscription_id: 's1', daily_cap: 5, monthly_cap: null, expected_version: 0, actor })
      .then([{ type: 'SubscriptionChanged', data: { subscription_id: 's1', daily_cap: 5, actor } }]);
    given([created, paused]).when({ type: 'change', subscription_id: 's1', daily_cap: 5, expected_version: 0, actor }).thenThrows(SubscriptionVersionConflictError, (e) => e.actual === 1);
  });

  it('moves the status; the same status is nothing; cancelled is terminal; an unknown subscription is SUBSCRIPTION_NOT_FOUND', () => {
    given([created]).when(setStatus('paused', 0)).then([paused]);
    given([created, paused]).when(setStatus('paused')).thenNothingHappened();
    const cancelled: SubscriptionEvent = { type: 'SubscriptionStatusChanged', data: { subscription_id: 's1', provider_id: 'p1', from: 'paused', to: 'cancelled', reason: 'op', actor } };
    given([created, paused, cancelled]).when(setStatus('active')).thenThrows(SubscriptionCancelledError);
    given([]).when(setStatus('active')).thenThrows(SubscriptionNotFoundError);
  });
});
