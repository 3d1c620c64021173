import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '@fairlead/contracts';
import { decideProvider, evolveProvider, type ProviderEvent, type ProviderState } from './provider';

const actor = SYSTEM_ACTOR;
const given = (events: ProviderEvent[]): ProviderState => events.reduce<ProviderState>((s, e, i) => evolveProvider(s, e, i), null);
const registered: ProviderEvent = { type: 'ProviderRegistered', data: { provider_id: 'p1', name: 'Acme', email: 'a@acme.test', actor } };

describe('provider', () => {
  it('registers once; a repeat with the same values is nothing, with others PROVIDER_EXISTS', () => {
    const register = { type: 'register_provider' as const, provider_id: 'p1', name: 'Acme', email: 'a@acme.test', actor };
    expect(decideProvider(register, null)).toEqual([registered]);
    expect(decideProvider(register, given([registered]))).toEqual([]);
    expect(() => decideProvider({ ...register, name: 'Other' }, given([registered]))).toThrow(expect.objectContaining({ code: 'PROVIDER_EXISTS' }));
  });

  it('updates only what changes; an unknown provider is PROVIDER_NOT_FOUND', () => {
    const events = decideProvider({ type: 'update_provider', provider_id: 'p1', name: 'Acme', email: 'b@acme.test', actor }, given([registered]));
    expect(events).toEqual([{ type: 'ProviderUpdated', data: { provider_id: 'p1', email: 'b@acme.test', actor } }]);
    expect(given([registered, ...events])).toEqual({ provider_id: 'p1', name: 'Acme', email: 'b@acme.test', version: 1 });
    expect(() => decideProvider({ type: 'update_provider', provider_id: 'p2', name: 'X', actor }, null)).toThrow(expect.objectContaining({ code: 'PROVIDER_NOT_FOUND' }));
  });
});
