import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import { event, partialDistribution } from '../../testing/events';
import { startProjectionHarness, type ProjectionHarness } from '../../testing/projection-harness';
import { providersProjection } from '../providers/providers.projection';
import { decisionsProjection } from './decisions.projection';
import { findDecisionRecord } from './decisions.queries';

let h: ProjectionHarness;
const TABLES = ['operator.decisions', 'operator.decision_rounds', 'operator.decision_results'];

beforeAll(async () => {
  h = await startProjectionHarness('op_decisions');
  for (const [id, name] of [['p1', 'Acme Roofing'], ['p2', 'Best Roofs'], ['p3', 'Cheap Co']]) {
    await h.append(streams.provider(id!), [event('ProviderRegistered', { provider_id: id!, name: name!, email: `${id}@example.com`, actor: SYSTEM_ACTOR })]);
  }
  const s = partialDistribution('lead-1', 'roofing');
  await h.append(streams.lead(s.leadId), s.events);
  await h.project(providersProjection);
  await h.project(decisionsProjection);
});
afterAll(async () => {
  await h.close();
});

describe('the decision record', () => {
  it('shows the traversal and, per level, each candidate in LRU order with what became of it', async () => {
    const record = await findDecisionRecord(h.pool, 'lead-1');
    expect(record).toMatchObject({ lead_id: 'lead-1', start_order_position: 2, outcome: 'partial', duration_ms: 42 });
    expect(record!.levels.map((l) => l.order_position)).toEqual([2, 1]);

    const [level2, level1] = record!.levels;
    expect(level2!.rounds.map((r) => r.round)).toEqual([0, 1]);
    expect(level2!.rounds[0]!.candidates.map((c) => [c.rank, c.provider_id, c.provider_name, c.decision, c.reason])).toEqual([
      [1, 'p3', 'Cheap Co', 'skipped', 'insufficient_balance'],
      [2, 'p1', 'Acme Roofing', 'not_picked', 'no free slot at this rank'],
    ]);
    expect(level2!.rounds[0]!.candidates[0]!.last_received_at).toBeNull();
    expect(level2!.rounds[0]!.excluded).toEqual([{ provider_id: 'p9', provider_name: null, subscription_id: 'p9-roofing-l2', reason: 'ineligible_area' }]);
    expect(level2!.rounds[1]!.candidates).toMatchObject([{ provider_id: 'p1', decision: 'chosen', price_cents: 2_500, assignment_id: 'lead-1-a1' }]);

    expect(level1!.rounds[0]!.candidates.map((c) => [c.provider_id, c.decision])).toEqual([
      ['p2', 'chosen'],
      ['p4', 'not_picked'],
    ]);
    expect(level1!.rounds[0]!.excluded[0]).toMatchObject({ provider_id: 'p1', reason: 'already_assigned' });
  });

  it('is unknown for a lead whose distribution never started', async () => {
    expect(await findDecisionRecord(h.pool, 'lead-none')).toBeUndefined();
  });

  it('changes nothing when the whole log is replayed', async () => {
    const before = await h.dump(TABLES);
    await h.replay(decisionsProjection);
    expect(await h.dump(TABLES)).toBe(before);
  });
});
