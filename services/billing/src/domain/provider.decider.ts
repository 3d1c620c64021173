/**
 * The provider aggregate as one Decider (`provider-<id>`); the rules are in provider.ts.
 * Registration's event has a deterministic id, so a retried registration is stored once.
 */
import type { Decider } from '@fairlead/event-sourcing';
import { eventIds } from './ids';
import { decideProvider, evolveProvider, type ProviderCommand, type ProviderEvent, type ProviderState } from './provider';

export type DecidedProviderEvent = ProviderEvent & { id?: string };

export const providerDecider: Decider<ProviderCommand, DecidedProviderEvent, ProviderState> = {
  initialState: () => null,
  // A provider stream holds provider events only, so the state's version counts them.
  evolve: (state, event) => evolveProvider(state, event, (state?.version ?? -1) + 1),
  decide: (command, state) =>
    decideProvider(command, state).map((event) => (event.type === 'ProviderRegistered' ? { ...event, id: eventIds.providerRegistered(event.data.provider_id) } : event)),
};
