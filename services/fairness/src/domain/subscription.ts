/**
 * The subscription aggregate (`subscription-<id>`): a provider's subscription to one
 * competition level, with its service area, caps and status. Operators create and change
 * it through fairness; billing moves it between `active` and `paused_low_balance`.
 */
import type { Actor, DistributionEventData, ServiceArea, SubscriptionStatus } from '@fairlead/contracts';
import { SubscriptionCancelledError, SubscriptionExistsError, SubscriptionNotFoundError, SubscriptionVersionConflictError } from './errors';

export interface Subscription {
  subscription_id: string;
  provider_id: string;
  niche_id: string;
  level_id: string;
  service_area: ServiceArea;
  daily_cap: number | null;
  monthly_cap: number | null;
  status: SubscriptionStatus;
  /** Version of the subscription's stream (its last event's). */
  version: number;
}

export type SubscriptionState = Subscription | null;

export type SubscriptionEvent =
  | { type: 'SubscriptionCreated'; data: DistributionEventData<'SubscriptionCreated'> }
  | { type: 'SubscriptionChanged'; data: DistributionEventData<'SubscriptionChanged'> }
  | { type: 'SubscriptionStatusChanged'; data: DistributionEventData<'SubscriptionStatusChanged'> };

export const SUBSCRIPTION_EVENT_TYPES: ReadonlySet<string> = new Set(['SubscriptionCreated', 'SubscriptionChanged', 'SubscriptionStatusChanged']);

export function evolveSubscription(state: SubscriptionState, event: SubscriptionEvent, version: number): SubscriptionState {
  switch (event.type) {
    case 'SubscriptionCreated': {
      const { actor: _actor, ...created } = event.data;
      return { ...created, version };
    }
    case 'SubscriptionChanged': {
      if (!state) return state;
      const d = event.data;
      return {
        ...state,
        service_area: d.service_area ?? state.service_area,
        daily_cap: d.daily_cap === undefined ? state.daily_cap : d.daily_cap,
        monthly_cap: d.monthly_cap === undefined ? state.monthly_cap : d.monthly_cap,
        version,
      };
    }
    case 'SubscriptionStatusChanged':
      return state ? { ...state, status: event.data.to, version } : state;
  }
}

export type SubscriptionCommand =
  | {
      type: 'create';
      subscription_id: string;
      provider_id: string;
      niche_id: string;
      level_id: string;
      service_area: ServiceArea;
      daily_cap: number | null;
      monthly_cap: number | null;
      actor: Actor;
    }
  | {
      type: 'change';
      subscription_id: string;
      service_area?: ServiceArea;
      daily_cap?: number | null;
      monthly_cap?: number | null;
      expected_version?: number;
      actor: Actor;
    }
  | { type: 'set_status'; subscription_id: string; status: SubscriptionStatus; reason: string; expected_version?: number; actor: Actor };

const sameArea = (a: ServiceArea, b: ServiceArea): boolean =>
  JSON.stringify([...a.postal_codes].sort()) === JSON.stringify([...b.postal_codes].sort()) && JSON.stringify([...a.states].sort()) === JSON.stringify([...b.states].sort());

/** The events a command produces against the current state; [] when it changes nothing. */
export function decideSubscription(command: SubscriptionCommand, state: SubscriptionState): SubscriptionEvent[] {
  if (command.type === 'create') {
    if (state) {
      // A retried create with the same values is answered as done, not refused.
      const same =
        state.provider_id === command.provider_id &&
        state.niche_id === command.niche_id &&
        state.level_id === command.level_id &&
        sameArea(state.service_area, command.service_area) &&
        state.daily_cap === command.daily_cap &&
        state.monthly_cap === command.monthly_cap;
      if (same) return [];
      throw new SubscriptionExistsError(command.subscription_id);
    }
    const { type: _type, ...data } = command;
    return [{ type: 'SubscriptionCreated', data: { ...data, status: 'active' } }];
  }
  if (!state) throw new SubscriptionNotFoundError(command.subscription_id);
  if (command.expected_version !== undefined && command.expected_version !== state.version) {
    throw new SubscriptionVersionConflictError(command.subscription_id, command.expected_version, state.version);
  }
  if (command.type === 'change') {
    if (state.status === 'cancelled') throw new SubscriptionCancelledError(command.subscription_id);
    const data: DistributionEventData<'SubscriptionChanged'> = { subscription_id: state.subscription_id, actor: command.actor };
    if (command.service_area !== undefined && !sameArea(command.service_area, state.service_area)) data.service_area = command.service_area;
    if (command.daily_cap !== undefined && command.daily_cap !== state.daily_cap) data.daily_cap = command.daily_cap;
    if (command.monthly_cap !== undefined && command.monthly_cap !== state.monthly_cap) data.monthly_cap = command.monthly_cap;
    const changed = data.service_area !== undefined || data.daily_cap !== undefined || data.monthly_cap !== undefined;
    return changed ? [{ type: 'SubscriptionChanged', data }] : [];
  }
  if (command.status === state.status) return [];
  if (state.status === 'cancelled') throw new SubscriptionCancelledError(command.subscription_id);
  return [
    {
      type: 'SubscriptionStatusChanged',
      data: { subscription_id: state.subscription_id, provider_id: state.provider_id, from: state.status, to: command.status, reason: command.reason, actor: command.actor },
    },
  ];
}
