import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams } from '@fairlead/contracts';
import { event } from '../../testing/events';
import { startProjectionHarness, type ProjectionHarness } from '../../testing/projection-harness';
import { walletsProjection } from '../wallets/wallets.projection';
import { providersProjection } from './providers.projection';
import { findProvider, listProviders } from './providers.queries';

let h: ProjectionHarness;
const admin = { actor_id: 'alice', actor_role: 'admin' } as const;

beforeAll(async () => {
  h = await startProjectionHarness('op_providers');
  await h.append(streams.provider('p1'), [
    event('ProviderRegistered', { provider_id: 'p1', name: 'Zed Roofing', email: 'zed@example.com', actor: admin }),
    event('ProviderUpdated', { provider_id: 'p1', name: 'Acme Roofing', actor: admin }),
  ]);
  await h.append(streams.provider('p2'), [event('ProviderRegistered', { provider_id: 'p2', name: 'Best 100% Roofs', email: 'best@example.com', actor: admin })]);
  await h.append(streams.provider('p3'), [event('ProviderRegistered', { provider_id: 'p3', name: 'Cheap Co', email: 'cheap@example.org', actor: admin })]);
  await h.append(streams.wallet('p1'), [event('WalletToppedUp', { provider_id: 'p1', amount_cents: 5_000, balance_after_cents: 5_000, reference: 'card', actor: admin })]);
  await h.project(providersProjection);
  await h.project(walletsProjection);
});
afterAll(async () => {
  await h.close();
});

describe('operator.providers', () => {
  it('keeps the latest name and email, the stream version and the balance', async () => {
    expect(await findProvider(h.pool, 'p1')).toMatchObject({ name: 'Acme Roofing', email: 'zed@example.com', version: 1, balance_cents: 5_000 });
    expect(await findProvider(h.pool, 'p2')).toMatchObject({ balance_cents: null, version: 0 });
  });

  it('lists by name with a cursor and searches name and email literally', async () => {
    const first = await listProviders(h.pool, { limit: 2 });
    expect(first.items.map((p) => p.name)).toEqual(['Acme Roofing', 'Best 100% Roofs']);
    const rest = await listProviders(h.pool, { limit: 2, cursor: first.next_cursor! });
    expect(rest.items.map((p) => p.name)).toEqual(['Cheap Co']);
    expect(rest.next_cursor).toBeNull();
    expect((await listProviders(h.pool, { q: 'example.org', limit: 10 })).items.map((p) => p.provider_id)).toEqual(['p3']);
    // % is matched as itself, not as a wildcard.
    expect((await listProviders(h.pool, { q: '0%', limit: 10 })).items.map((p) => p.provider_id)).toEqual(['p2']);
  });

  it('changes nothing when the whole log is replayed', async () => {
    const before = await h.dump(['operator.providers']);
    await h.replay(providersProjection);
    expect(await h.dump(['operator.providers'])).toBe(before);
  });
});
