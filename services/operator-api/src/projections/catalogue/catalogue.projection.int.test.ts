import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams } from '@fairlead/contracts';
import { event, level } from '../../testing/events';
import { startProjectionHarness, type ProjectionHarness } from '../../testing/projection-harness';
import { catalogueProjection } from './catalogue.projection';
import { findNiche, listNiches } from './catalogue.queries';

let h: ProjectionHarness;
const admin = { actor_id: 'alice', actor_role: 'admin' } as const;

beforeAll(async () => {
  h = await startProjectionHarness('op_catalogue');
  const l1 = level('roofing', 1, 2, 1_000);
  const l2 = level('roofing', 2, 1, 2_500);
  await h.append(streams.niche('roofing'), [
    event('NicheCreated', { niche_id: 'roofing', name: 'Roofing', auto_distribute: true, actor: admin }),
    event('CompetitionLevelAdded', { ...l2, niche_id: 'roofing', active: true, actor: admin }),
    event('CompetitionLevelAdded', { ...l1, niche_id: 'roofing', active: true, actor: admin }),
    event('CompetitionLevelUpdated', { niche_id: 'roofing', level_id: l2.level_id, price_per_lead_cents: 3_000, active: false, actor: admin }),
    event('NicheUpdated', { niche_id: 'roofing', auto_distribute: false, actor: admin }),
    event('StartLevelClaimed', { niche_id: 'roofing', lead_id: 'lead-1', start_order_position: 1, next_start_order_position: 2, traversal: [l1] }),
  ]);
  await h.append(streams.niche('aaa'), [event('NicheCreated', { niche_id: 'aaa', name: 'Aardvarks', auto_distribute: true, actor: admin })]);
  await h.project(catalogueProjection);
});
afterAll(async () => {
  await h.close();
});

describe('operator.niches and operator.levels', () => {
  it('keeps each niche with its levels, flag, rotation pointer and stream version', async () => {
    const niche = await findNiche(h.pool, 'roofing');
    expect(niche).toMatchObject({ name: 'Roofing', auto_distribute: false, next_start_order_position: 2, version: 5 });
    expect(niche!.levels.map((l) => [l.order_position, l.price_per_lead_cents, l.active])).toEqual([
      [1, 1_000, true],
      [2, 3_000, false],
    ]);
    expect((await listNiches(h.pool)).map((n) => [n.niche_id, n.levels.length])).toEqual([
      ['aaa', 0],
      ['roofing', 2],
    ]);
  });

  it('changes nothing when the whole log is replayed', async () => {
    const before = await h.dump(['operator.niches', 'operator.levels']);
    await h.replay(catalogueProjection);
    expect(await h.dump(['operator.niches', 'operator.levels'])).toBe(before);
  });
  it('a page of rotation claims of several niches ends as event-by-event, also over a row that holds some of them', async () => {
    const l1 = level('x', 1, 1, 1_000);
    const claims = (niche: string, n: number) =>
      Array.from({ length: n }, (_, i) => event('StartLevelClaimed', { niche_id: niche, lead_id: `lead-${niche}-${i}`, start_order_position: (i % 3) + 1, next_start_order_position: ((i + 1) % 3) + 1, traversal: [l1] }));
    const niches = ['one-a', 'one-b', 'paged-a', 'paged-b'];
    for (const n of niches) await h.append(streams.niche(n), [event('NicheCreated', { niche_id: n, name: n, auto_distribute: true, actor: admin }), ...claims(n, n.endsWith('a') ? 4 : 2)]);
    const stored = Object.fromEntries(await Promise.all(niches.map(async (n) => [n, await h.store.readStream(streams.niche(n))] as const)));
    const client = await h.pool.connect();
    try {
      for (const n of ['one-a', 'one-b']) for (const e of stored[n]!) await catalogueProjection.apply(e, client);
      // The niches exist; paged-a already holds its first two claims.
      for (const e of [...stored['paged-a']!.slice(0, 3), stored['paged-b']![0]!]) await catalogueProjection.apply(e, client);
      const [a, b] = [stored['paged-a']!.slice(1), stored['paged-b']!.slice(1)];
      const page = [a[0]!, b[0]!, a[1]!, a[2]!, b[1]!, a[3]!];
      await catalogueProjection.applyBatch!(page, client);
      await catalogueProjection.applyBatch!(page, client);
    } finally {
      client.release();
    }
    const row = async (id: string) => {
      const { rows } = await h.pool.query(`select next_start_order_position, version from operator.niches where niche_id = $1`, [id]);
      return rows[0] as unknown;
    };
    expect(await row('paged-a')).toEqual(await row('one-a'));
    expect(await row('paged-b')).toEqual(await row('one-b'));
    expect(await row('paged-a')).toEqual({ next_start_order_position: 2, version: 4 });
  });
});
