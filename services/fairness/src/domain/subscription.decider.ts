/** The subscription aggregate as one Decider (`subscription-<id>`); the rules are in subscription.ts. */
import type { Decider } from '@fairlead/event-sourcing';
import { decideSubscription, evolveSubscription, type SubscriptionCommand, type SubscriptionEvent, type SubscriptionState } from './subscription';

export const subscriptionDecider: Decider<SubscriptionCommand, SubscriptionEvent, SubscriptionState> = {
  initialState: () => null,
  // A subscription stream holds subscription events only, so the state's version counts them.
  evolve: (state, event) => evolveSubscription(state, event, (state?.version ?? -1) + 1),
  decide: decideSubscription,
};
