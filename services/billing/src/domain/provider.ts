/**
 * The provider aggregate (`provider-<id>`): who receives leads and pays for them. Its
 * wallet is a stream of its own (wallet.ts); registering a provider opens the wallet.
 */
import type { Actor, DistributionEventData } from '@fairlead/contracts';
import { ProviderExistsError, ProviderNotFoundError, ProviderVersionConflictError } from './errors';

export interface Provider {
  provider_id: string;
  name: string;
  email: string;
  /** Version of the provider's stream. */
  version: number;
}

export type ProviderState = Provider | null;

export type ProviderEvent =
  | { type: 'ProviderRegistered'; data: DistributionEventData<'ProviderRegistered'> }
  | { type: 'ProviderUpdated'; data: DistributionEventData<'ProviderUpdated'> };

export const PROVIDER_EVENT_TYPES: ReadonlySet<string> = new Set(['ProviderRegistered', 'ProviderUpdated']);

export function evolveProvider(state: ProviderState, event: ProviderEvent, version: number): ProviderState {
  switch (event.type) {
    case 'ProviderRegistered':
      return { provider_id: event.data.provider_id, name: event.data.name, email: event.data.email, version };
    case 'ProviderUpdated':
      return state ? { ...state, name: event.data.name ?? state.name, email: event.data.email ?? state.email, version } : state;
  }
}

export type ProviderCommand =
  | { type: 'register_provider'; provider_id: string; name: string; email: string; actor: Actor }
  | { type: 'update_provider'; provider_id: string; name?: string; email?: string; expected_version?: number; actor: Actor };

/** The events a command produces against the current state; [] when it changes nothing. */
export function decideProvider(command: ProviderCommand, state: ProviderState): ProviderEvent[] {
  if (command.type === 'register_provider') {
    if (state) {
      // A retried registration with the same values is answered as done, not refused.
      if (state.name === command.name && state.email === command.email) return [];
      throw new ProviderExistsError(command.provider_id);
    }
    const { type: _t, ...data } = command;
    return [{ type: 'ProviderRegistered', data }];
  }
  if (!state) throw new ProviderNotFoundError(command.provider_id);
  // The caller decided on this version (an operator's If-Match): anything newer is a conflict, not a retry.
  if (command.expected_version !== undefined && command.expected_version !== state.version) {
    throw new ProviderVersionConflictError(command.provider_id, command.expected_version, state.version);
  }
  const data: DistributionEventData<'ProviderUpdated'> = { provider_id: state.provider_id, actor: command.actor };
  if (command.name !== undefined && command.name !== state.name) data.name = command.name;
  if (command.email !== undefined && command.email !== state.email) data.email = command.email;
  return data.name === undefined && data.email === undefined ? [] : [{ type: 'ProviderUpdated', data }];
}
