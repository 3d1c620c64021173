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
});
