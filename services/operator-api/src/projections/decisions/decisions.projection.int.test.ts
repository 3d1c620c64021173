import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import { at, event, partialDistribution } from '../../testing/events';
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
  it('a page of many leads, their events interleaved, writes the header rows exactly as event-by-event — a retried start included', async () => {
    const histories = (suffix: string) => {
      const partial = partialDistribution(`dec-many-partial-${suffix}`, 'roofing');
      const retried = `dec-many-retried-${suffix}`;
      const started = (attempt: number, minute: number, position: number) =>
        event('DistributionStarted', { lead_id: retried, niche_id: 'roofing', request_id: `rr-${suffix}`, attempt, start_order_position: position, traversal: [], started_at: at(minute) });
      const completion = event('DistributionCompleted', {
        lead_id: retried,
        niche_id: 'roofing',
        request_id: `rr-${suffix}`,
        outcome: 'no_eligible',
        start_order_position: null,
        traversal: [],
        assignments: [],
        skipped: [],
        duration_ms: 7,
        attempt: 2,
        completed_at: at(9),
      });
      return [partial.events, [started(1, 2, 1), started(2, 4, 2), completion]].map((events, i) => ({ stream: streams.lead(i === 0 ? partial.leadId : retried), events }));
    };
    const one = histories('one');
    const paged = histories('paged');
    for (const x of [...one, ...paged]) await h.append(x.stream, x.events);
    const client = await h.pool.connect();
    try {
      for (const x of one) for (const e of await h.store.readStream(x.stream)) await decisionsProjection.apply(e, client);
      const stored = await Promise.all(paged.map((x) => h.store.readStream(x.stream)));
      const page = [];
      for (let i = 0; i < Math.max(...stored.map((x) => x.length)); i++) for (const x of stored) if (x[i]) page.push(x[i]!);
      await decisionsProjection.applyBatch!(page, client);
      await decisionsProjection.applyBatch!(page, client);
    } finally {
      client.release();
    }
    const header = async (id: string) => {
      const { rows } = await h.pool.query(`select niche_id, start_order_position, traversal, started_at, outcome, completed_at, duration_ms, version from operator.decisions where lead_id = $1`, [id]);
      return rows[0] as unknown;
    };
    for (const kind of ['partial', 'retried']) expect(await header(`dec-many-${kind}-paged`)).toEqual(await header(`dec-many-${kind}-one`));
    expect(await header('dec-many-retried-paged')).toMatchObject({ start_order_position: 2, outcome: 'no_eligible', version: 2 });
  });
});
