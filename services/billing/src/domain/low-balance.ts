/**
 * The low-balance rule (docs/distribution.md): let P be the cheapest level price among the
 * provider's subscriptions that are `active` or `paused_low_balance`. A balance below P
 * pauses every `active` one (`paused_low_balance`); a balance of at least P makes every
 * `paused_low_balance` one `active` again. Operators' states (`paused`, `cancelled`) are
 * never touched.
 */
import type { DistributionEventData, SubscriptionStatus } from '@fairlead/contracts';

export interface PricedSubscription {
  subscription_id: string;
  status: SubscriptionStatus;
  /** Price per lead of the subscription's level. */
  price_cents: number;
}

export interface StatusChange {
  subscription_id: string;
  from: SubscriptionStatus;
  to: 'active' | 'paused_low_balance';
  reason: string;
}

const MOVABLE: ReadonlySet<SubscriptionStatus> = new Set(['active', 'paused_low_balance']);

export function cheapestPrice(subscriptions: readonly PricedSubscription[]): number | undefined {
  const prices = subscriptions.filter((s) => MOVABLE.has(s.status)).map((s) => s.price_cents);
  return prices.length === 0 ? undefined : Math.min(...prices);
}

/** The status changes the rule asks for at this balance; [] when every subscription is where it belongs. */
export function lowBalanceChanges(balanceCents: number, subscriptions: readonly PricedSubscription[]): StatusChange[] {
  const cheapest = cheapestPrice(subscriptions);
  if (cheapest === undefined) return [];
  const low = balanceCents < cheapest;
  const from: SubscriptionStatus = low ? 'active' : 'paused_low_balance';
  const to = low ? 'paused_low_balance' : 'active';
  const reason = low
    ? `balance ${balanceCents} is below the cheapest price ${cheapest}`
    : `balance ${balanceCents} covers the cheapest price ${cheapest}`;
  return subscriptions.filter((s) => s.status === from).map((s) => ({ subscription_id: s.subscription_id, from, to, reason }));
}

/** A subscription's status and stream version as its stream tells (for re-deciding after a conflict). */
export interface SubscriptionStatusState {
  provider_id: string;
  status: SubscriptionStatus;
  version: number;
}

export type SubscriptionStatusEvent =
  | { type: 'SubscriptionCreated'; data: DistributionEventData<'SubscriptionCreated'> }
  | { type: 'SubscriptionStatusChanged'; data: DistributionEventData<'SubscriptionStatusChanged'> }
  /** Any other event of the stream only moves its version. */
  | { type: 'other' };

export function evolveSubscriptionStatus(state: SubscriptionStatusState | null, event: SubscriptionStatusEvent, version: number): SubscriptionStatusState | null {
  if (event.type === 'SubscriptionCreated') return { provider_id: event.data.provider_id, status: event.data.status, version };
  if (!state) return state;
  if (event.type === 'SubscriptionStatusChanged') return { ...state, status: event.data.to, version };
  return { ...state, version };
}
