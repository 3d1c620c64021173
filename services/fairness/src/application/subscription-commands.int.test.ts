import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams } from '@fairlead/contracts';
import { isRemoteError } from '@fairlead/messaging';
import type { FairnessService } from '../service';
import { level, startHarness, type Harness } from '../testing/harness';

let h: Harness;
let service: FairnessService;

beforeAll(async () => {
  h = await startHarness('fairness_subs', { relay: false });
  service = await h.startService({ levelWaitMs: 300 });
  await h.seedNiche('s1', [level('s1', 1, 2, 1000), level('s1', 2, 1, 500)]);
  await h.seedNiche('s2', [level('s2', 1, 1, 100)]);
});
afterAll(async () => h?.close());

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRemoteError(error)) throw new Error(`expected a remote error, got ${String(error)}`);
  return error.code;
}

describe('subscription commands over NATS', () => {
  it('creates an active subscription (a level added a moment ago is found) and reads it back', async () => {
    const created = await h.command('create_subscription', {
      subscription_id: 'sub-1',
      provider_id: 'p-1',
      niche_id: 's1',
      level_id: 's1-l1',
      service_area: { postal_codes: ['94110'], states: ['ca'] },
      daily_cap: 5,
      actor: { actor_id: 'op', actor_role: 'operator' },
    });
    expect(created).toEqual({
      subscription_id: 'sub-1',
      provider_id: 'p-1',
      niche_id: 's1',
      level_id: 's1-l1',
      service_area: { postal_codes: ['94110'], states: ['CA'] },
      daily_cap: 5,
      monthly_cap: null,
      status: 'active',
      version: 0,
    });
    expect(await h.command('get_subscription', { subscription_id: 'sub-1' })).toEqual(created);
    // Read-your-writes: once answered, the distribution's read model already has it.
    const { rows } = await h.db.pool.query('select version, status from fairness.subscriptions where subscription_id = $1', ['sub-1']);
    expect(rows).toEqual([{ version: 0, status: 'active' }]);
    const [event] = await h.store.readStream(streams.subscription('sub-1'));
    expect(event).toMatchObject({ type: 'SubscriptionCreated', metadata: { actor: { actor_id: 'op' } } });
  });

  it('refuses a level of another niche, an unknown level and an invalid request, with their codes', async () => {
    const base = { provider_id: 'p-1', service_area: { states: ['CA'] } };
    expect(await codeOf(h.command('create_subscription', { ...base, niche_id: 's1', level_id: 's2-l1' }))).toBe('LEVEL_NOT_FOUND');
    expect(await codeOf(h.command('create_subscription', { ...base, niche_id: 's1', level_id: 'nope' }))).toBe('LEVEL_NOT_FOUND');
    expect(await codeOf(h.command('create_subscription', { ...base, niche_id: 's1', level_id: 's1-l1', service_area: { postal_codes: [], states: [] } }))).toBe(
      'INVALID_REQUEST',
    );
    expect(await codeOf(h.command('get_subscription', { subscription_id: 'missing' }))).toBe('SUBSCRIPTION_NOT_FOUND');
  });

  it('a retried create is answered with the subscription; a create with other values is refused', async () => {
    const body = { subscription_id: 'sub-2', provider_id: 'p-2', niche_id: 's1', level_id: 's1-l2', service_area: { states: ['CA'] } };
    const first = await h.command('create_subscription', body);
    expect(await h.command('create_subscription', body)).toEqual(first);
    expect(await codeOf(h.command('create_subscription', { ...body, level_id: 's1-l1' }))).toBe('SUBSCRIPTION_EXISTS');
  });

  it('changes caps and area, and status with an expected version; a stale version is refused', async () => {
    const changed = await h.command('update_subscription', { subscription_id: 'sub-1', monthly_cap: 100, daily_cap: null, expected_version: 0 });
    expect(changed).toMatchObject({ daily_cap: null, monthly_cap: 100, version: 1 });
    expect((await h.db.pool.query('select monthly_cap from fairness.subscriptions where subscription_id = $1', ['sub-1'])).rows).toEqual([{ monthly_cap: 100 }]);
    expect(await codeOf(h.command('set_subscription_status', { subscription_id: 'sub-1', status: 'paused', expected_version: 0 }))).toBe('SUBSCRIPTION_VERSION_CONFLICT');
    expect(await h.command('set_subscription_status', { subscription_id: 'sub-1', status: 'paused', expected_version: 1, reason: 'holiday' })).toMatchObject({
      status: 'paused',
      version: 2,
    });
    await h.command('set_subscription_status', { subscription_id: 'sub-1', status: 'cancelled' });
    expect(await codeOf(h.command('set_subscription_status', { subscription_id: 'sub-1', status: 'active' }))).toBe('SUBSCRIPTION_CANCELLED');
  });

  it('projects subscriptions and levels into fairness.*, and replaying their events changes nothing', async () => {
    await h.command('create_subscription', { subscription_id: 'sub-3', provider_id: 'p-3', niche_id: 's2', level_id: 's2-l1', service_area: { postal_codes: ['10001'] } });
    await h.command('update_subscription', { subscription_id: 'sub-3', service_area: { states: ['NY'] }, daily_cap: 2 });
    await service.caughtUp();
    const snapshot = async () => ({
      subscriptions: (await h.db.pool.query('select * from fairness.subscriptions order by subscription_id')).rows,
      levels: (await h.db.pool.query('select * from fairness.levels order by level_id')).rows,
    });
    const before = await snapshot();
    expect(before.subscriptions.find((r) => r.subscription_id === 'sub-3')).toMatchObject({ postal_codes: [], states: ['NY'], daily_cap: 2, status: 'active', version: 1 });
    expect(before.subscriptions.find((r) => r.subscription_id === 'sub-1')).toMatchObject({ status: 'cancelled', daily_cap: null, monthly_cap: 100 });
    expect(before.levels.map((l) => [l.level_id, l.max_recipients])).toEqual([
      ['s1-l1', 2],
      ['s1-l2', 1],
      ['s2-l1', 1],
    ]);

    // Forget the checkpoints: a fresh instance replays every event over the same rows.
    await h.db.pool.query('delete from fairness.projection_checkpoints');
    const replay = await h.startService({ durable: 'fairness-replay' });
    await replay.caughtUp();
    await replay.stop();
    expect(await snapshot()).toEqual(before);
  });
});
