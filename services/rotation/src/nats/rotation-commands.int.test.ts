import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { isRemoteError, request, type RemoteError } from '@fairlead/messaging';
import { startRotationHarness, type RotationHarness } from '../testing/harness';

let h: RotationHarness;

beforeAll(async () => {
  h = await startRotationHarness('rotation_cmds');
  await h.start({ autoDistributeDefault: false });
});
afterAll(() => h?.close());

async function remoteError(promise: Promise<unknown>): Promise<RemoteError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRemoteError(error)) throw new Error(`expected a remote error, got ${String(error)}`);
  return error;
}

const addLevel = (nicheId: string, n: number, extra: Record<string, unknown> = {}) =>
  h.command('add_level', { niche_id: nicheId, level_id: `${nicheId}-l${n}`, name: `Level ${n}`, order_position: n, max_recipients: 2, price_per_lead_cents: 500 * n, ...extra });

describe('rotation commands over NATS', () => {
  it('creates a niche (auto flag from config when omitted), adds and updates levels, and reads it back', async () => {
    const created = await h.command('create_niche', { niche_id: 'roofing', name: 'Roofing' });
    expect(created).toMatchObject({ niche_id: 'roofing', name: 'Roofing', auto_distribute: false, levels: [], next_start_order_position: 1, version: 0 });
    await addLevel('roofing', 2);
    await addLevel('roofing', 1);
    const updated = await h.command('update_level', { niche_id: 'roofing', level_id: 'roofing-l2', active: false, price_per_lead_cents: 777 });
    expect(updated.levels).toEqual([
      { level_id: 'roofing-l1', name: 'Level 1', order_position: 1, max_recipients: 2, price_per_lead_cents: 500, active: true },
      { level_id: 'roofing-l2', name: 'Level 2', order_position: 2, max_recipients: 2, price_per_lead_cents: 777, active: false },
    ]);
    const renamed = await h.command('update_niche', { niche_id: 'roofing', name: 'Roofs', auto_distribute: true, expected_version: 3 });
    expect(renamed).toMatchObject({ name: 'Roofs', auto_distribute: true, version: 4 });
    expect(await h.command('get_niche', { niche_id: 'roofing' })).toEqual(renamed);

    const stored = await h.store.readStream(streams.niche('roofing'));
    expect(stored.map((e) => e.type)).toEqual(['NicheCreated', 'CompetitionLevelAdded', 'CompetitionLevelAdded', 'CompetitionLevelUpdated', 'NicheUpdated']);
    expect(stored[0]!.metadata).toMatchObject({ actor: { actor_id: 'system', actor_role: 'system' } });
  });

  it('honours an explicit auto_distribute and generates an id when none is given', async () => {
    const niche = await h.command('create_niche', { name: 'Solar', auto_distribute: true });
    expect(niche.niche_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(niche.auto_distribute).toBe(true);
  });

  it('answers a repeated create or add with the same values as done, and refuses other values', async () => {
    await h.command('create_niche', { niche_id: 'hvac', name: 'HVAC' });
    await addLevel('hvac', 1);
    const again = await h.command('create_niche', { niche_id: 'hvac', name: 'HVAC' });
    expect(again.version).toBe(1);
    expect((await addLevel('hvac', 1)).version).toBe(1);
    expect((await remoteError(h.command('create_niche', { niche_id: 'hvac', name: 'Heating' }))).code).toBe('NICHE_EXISTS');
    expect((await remoteError(addLevel('hvac', 1, { max_recipients: 5 }))).code).toBe('LEVEL_EXISTS');
    expect((await remoteError(addLevel('hvac', 1, { level_id: 'hvac-other' }))).code).toBe('LEVEL_POSITION_TAKEN');
    // Level ids are global: another niche cannot reuse one.
    await h.command('create_niche', { niche_id: 'plumbing', name: 'Plumbing' });
    expect((await remoteError(addLevel('plumbing', 1, { level_id: 'hvac-l1' }))).code).toBe('LEVEL_EXISTS');
    expect((await h.command('get_niche', { niche_id: 'plumbing' })).levels).toEqual([]);
  });

  it('refuses unknown niches and levels, stale versions, and claims without active levels', async () => {
    expect((await remoteError(h.command('get_niche', { niche_id: 'nope' }))).code).toBe('NICHE_NOT_FOUND');
    expect((await remoteError(addLevel('nope', 1))).code).toBe('NICHE_NOT_FOUND');
    expect((await remoteError(h.command('claim_start_level', { niche_id: 'nope', lead_id: 'x' }))).code).toBe('NICHE_NOT_FOUND');
    expect((await remoteError(h.command('update_level', { niche_id: 'hvac', level_id: 'zzz', active: false }))).code).toBe('LEVEL_NOT_FOUND');
    const stale = await remoteError(h.command('update_niche', { niche_id: 'hvac', name: 'X', expected_version: 0 }));
    expect(stale.code).toBe('NICHE_VERSION_CONFLICT');
    await h.command('create_niche', { niche_id: 'empty', name: 'Empty' });
    expect((await remoteError(h.command('claim_start_level', { niche_id: 'empty', lead_id: 'x' }))).code).toBe('NO_ACTIVE_LEVELS');
    expect(await h.store.streamVersion(streams.niche('empty'))).toBe(0);
  });

  it('answers malformed requests with INVALID_REQUEST and the issues, and keeps serving', async () => {
    const bad = [
      { name: '' },
      { niche_id: 'has space', name: 'X' },
      { niche_id: 'n', name: 'X', auto_distribute: 'yes' },
    ];
    for (const body of bad) {
      const error = await remoteError(h.command('create_niche', body));
      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.issues?.length).toBeGreaterThan(0);
    }
    const level = await remoteError(addLevel('hvac', 0, { max_recipients: -1 }));
    expect(level.issues?.map((i) => i.path.join('.')).sort()).toEqual(['max_recipients', 'order_position']);
    // Not JSON at all.
    const notJson = await remoteError(request(h.client, h.subjects.command('rotation', 'claim_start_level'), new TextEncoder().encode('{nope')));
    expect(notJson.code).toBe('INVALID_REQUEST');
    expect((await h.command('get_niche', { niche_id: 'hvac' })).niche_id).toBe('hvac');
  });

  it('claims start levels over the active levels only, and the same lead always gets the same answer', async () => {
    await h.command('create_niche', { niche_id: 'windows', name: 'Windows' });
    for (const n of [1, 2, 3]) await addLevel('windows', n);
    const first = await h.command('claim_start_level', { niche_id: 'windows', lead_id: 'w-1' });
    expect(first.start_order_position).toBe(1);
    expect(first.traversal.map((l) => l.order_position)).toEqual([1, 2, 3]);
    const second = await h.command('claim_start_level', { niche_id: 'windows', lead_id: 'w-2' });
    expect(second.traversal.map((l) => l.order_position)).toEqual([2, 3, 1]);
    expect(await h.command('claim_start_level', { niche_id: 'windows', lead_id: 'w-1' })).toEqual(first);

    // Level 3 goes inactive: the next start skips it and the traversal leaves it out.
    await h.command('update_level', { niche_id: 'windows', level_id: 'windows-l3', active: false });
    const third = await h.command('claim_start_level', { niche_id: 'windows', lead_id: 'w-3' });
    expect(third.start_order_position).toBe(1);
    expect(third.traversal.map((l) => l.order_position)).toEqual([1, 2]);
    // The answer for an earlier lead does not change with the configuration.
    expect(await h.command('claim_start_level', { niche_id: 'windows', lead_id: 'w-2' })).toEqual(second);
    expect((await remoteError(h.command('claim_start_level', { niche_id: 'hvac', lead_id: 'w-1' }))).code).toBe('LEAD_CLAIMED_IN_OTHER_NICHE');

    const claims = (await h.store.readStream(streams.niche('windows'))).filter((e) => e.type === 'StartLevelClaimed');
    expect(claims.map((e) => parseDistributionEvent('StartLevelClaimed', e.data).lead_id)).toEqual(['w-1', 'w-2', 'w-3']);
    const { rows } = await h.db.pool.query<{ lead_id: string; start_order_position: number }>(
      `select lead_id, start_order_position from rotation.claims where niche_id = 'windows' order by lead_id`,
    );
    expect(rows).toEqual([
      { lead_id: 'w-1', start_order_position: 1 },
      { lead_id: 'w-2', start_order_position: 2 },
      { lead_id: 'w-3', start_order_position: 1 },
    ]);
    expect((await h.command('get_niche', { niche_id: 'windows' })).next_start_order_position).toBe(2);
  });
});
