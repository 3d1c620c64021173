import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import { createPostgresEventStore, START, type PostgresEventStore, type StoredEvent } from '@fairlead/event-store';
import { startProjector, type RunningProjector } from '@fairlead/projections';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { migrateNotification, SCHEMA } from '../../schema';
import { seedWorld } from '../../testing/fixtures';
import { directoryProjection } from './directory.projection';
import { findNicheName, findProvider, findSubscription } from './directory.queries';

describe('directory projection', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let projector: RunningProjector;
  const projection = directoryProjection(pino({ level: 'silent' }));

  beforeAll(async () => {
    db = await createTestDatabase('notification_directory');
    store = createPostgresEventStore({ pool: db.pool });
    await store.migrate();
    await migrateNotification(db.pool);
    projector = await startProjector({ store, pool: db.pool, schema: SCHEMA, projection });
  });

  afterAll(async () => {
    await projector?.stop();
    await store?.close();
    await db?.drop();
  });

  const snapshot = async () =>
    (
      await db.pool.query(`select 'p' as t, provider_id as id, name, email, version from notification.providers
        union all select 'n', niche_id, name, null, version from notification.niches
        union all select 'l', level_id, name, niche_id, version from notification.levels
        union all select 's', subscription_id, level_id, provider_id, version from notification.subscriptions order by 1, 2`)
    ).rows;

  it('knows providers, niches, levels and subscriptions, with updates; replaying every event changes nothing', async () => {
    const world = await seedWorld(store, undefined, { niche: 'Roofing', level: 'Gold', provider: 'Acme' });
    await store.append(streams.provider(world.providerId), [{ id: randomUUID(), type: 'ProviderUpdated', data: { provider_id: world.providerId, email: 'new@example.com', actor: SYSTEM_ACTOR } }], 'any');
    await store.append(
      streams.niche(world.nicheId),
      [
        { id: randomUUID(), type: 'NicheUpdated', data: { niche_id: world.nicheId, name: 'Roofing & Siding', actor: SYSTEM_ACTOR } },
        { id: randomUUID(), type: 'CompetitionLevelUpdated', data: { niche_id: world.nicheId, level_id: world.levelId, name: 'Platinum', actor: SYSTEM_ACTOR } },
      ],
      'any',
    );
    // A malformed event is skipped (and logged), not allowed to stop the projection.
    await store.append(streams.provider('broken'), [{ id: randomUUID(), type: 'ProviderRegistered', data: { provider_id: 'broken' } }], 'any');
    await projector.waitUntilCaughtUp();

    expect(await findProvider(db.pool, world.providerId)).toEqual({ name: 'Acme', email: 'new@example.com' });
    expect(await findNicheName(db.pool, world.nicheId)).toBe('Roofing & Siding');
    expect(await findSubscription(db.pool, world.subscriptionId)).toEqual({
      provider_id: world.providerId,
      niche_id: world.nicheId,
      niche_name: 'Roofing & Siding',
      level_id: world.levelId,
      level_name: 'Platinum',
    });
    expect(await findProvider(db.pool, 'broken')).toBeUndefined();

    const before = await snapshot();
    const all: StoredEvent[] = (await store.readAll(START, 10_000)).events;
    const client = await db.pool.connect();
    try {
      for (const event of all) await projection.apply(event, client);
    } finally {
      client.release();
    }
    expect(await snapshot()).toEqual(before);
  });
});
