import { describe, it } from 'vitest';
import { SYSTEM_ACTOR } from '@fairlead/contracts';
import { DeciderSpecification } from '@fairlead/event-sourcing/testing';
import { ProviderExistsError, ProviderNotFoundError, ProviderVersionConflictError } from './errors';
import { eventIds } from './ids';
import { providerDecider, type DecidedProviderEvent } from './provider.decider';

const actor = SYSTEM_ACTOR;
const given = DeciderSpecification.for(providerDecider);
const registered: DecidedProviderEvent = { type: 'ProviderRegistered', data: { provider_id: 'p1', name: 'Acme', email: 'a@acme.test', actor } };
const register = { type: 'register_provider' as const, provider_id: 'p1', name: 'Acme', email: 'a@acme.test', actor };

describe('provider decider', () => {
  it('given nothing, when registered, then ProviderRegistered with its deterministic id', () => {
    given([]).when(register).then([{ ...registered, id: eventIds.providerRegistered('p1') }]);
  });

  it('given the provider, a repeated registration is nothing; with other values it is PROVIDER_EXISTS', () => {
    given([registered]).when(register).thenNothingHappened();
    given([registered]).when({ ...register, email: 'b@acme.test' }).thenThrows(ProviderExistsError);
  });

  it('updates only the fields that change, at the version the caller decided on', () => {
    given([registered])
      .when({ type: 'update_provider', provider_id: 'p1', name: 'Acme', email: 'b@acme.test', expected_version: 0, actor })
      .then([{ type: 'ProviderUpdated', data: { provider_id: 'p1', email: 'b@acme.test', actor } }]);
    given([registered]).when({ type: 'update_provider', provider_id: 'p1', name: 'Acme', actor }).thenNothingHappened();
  });

  it('refuses an update at a stale version (PROVIDER_VERSION_CONFLICT) and of an unknown provider', () => {
    const updated: DecidedProviderEvent = { type: 'ProviderUpdated', data: { provider_id: 'p1', name: 'Acme 2', actor } };
    given([registered, updated])
      .when({ type: 'update_provider', provider_id: 'p1', name: 'X', expected_version: 0, actor })
      .thenThrows(ProviderVersionConflictError, (e) => e.expected === 0 && e.actual === 1);
    given([]).when({ type: 'update_provider', provider_id: 'p1', name: 'X', actor }).thenThrows(ProviderNotFoundError);
  });
});
