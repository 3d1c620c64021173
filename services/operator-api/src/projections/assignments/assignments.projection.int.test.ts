import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import { event, partialDistribution } from '../../testing/events';
import { startProjectionHarness, type ProjectionHarness } from '../../testing/projection-harness';
import { providersProjection } from '../providers/providers.projection';
import { assignmentsProjection } from './assignments.projection';
import { leadAssignmentsPage, listAssignments } from './assignments.queries';

let h: ProjectionHarness;

beforeAll(async () => {
  h = await startProjectionHarness('op_assignments');
  await h.append(streams.provider('p1'), [event('ProviderRegistered', { provider_id: 'p1', name: 'Acme Roofing', email: 'p1@example.com', actor: SYSTEM_ACTOR })]);
  for (const id of ['lead-a', 'lead-b', 'lead-c']) {
    const s = partialDistribution(id, 'roofing');
    await h.append(streams.lead(id), s.events);
  }
  await h.append(streams.wallet('p2'), [
    event('WalletRefunded', { provider_id: 'p2', lead_id: 'lead-b', amount_cents: 1_000, balance_after_cents: 5_000, reason: 'returned: wrong number', actor: { actor_id: 'alice', actor_role: 'admin' } }),
  ]);
  await h.project(providersProjection);
  await h.project(assignmentsProjection);
});
afterAll(async () => {
  await h.close();
});

describe('operator.assignments', () => {
  it("lists a lead's assignments newest first with provider and level names, page by page", async () => {
    const first = await leadAssignmentsPage(h.pool, 'lead-a', 1, 1);
    expect(first.total).toBe(2);
    expect(first.items.map((a) => [a.assignment_id, a.provider_name, a.level_name, a.price_cents, a.status])).toEqual([['lead-a-a2', null, 'Level 1', 1_000, 'active']]);
    const second = await leadAssignmentsPage(h.pool, 'lead-a', 2, 1);
    expect(second.items.map((a) => [a.assignment_id, a.provider_name, a.level_name])).toEqual([['lead-a-a1', 'Acme Roofing', 'Level 2']]);
  });

  it('marks a refunded assignment', async () => {
    const { items } = await listAssignments(h.pool, { lead_id: 'lead-b', limit: 10 });
    expect(items.map((a) => [a.provider_id, a.status])).toEqual([
      ['p2', 'refunded'],
      ['p1', 'active'],
    ]);
  });

  it('walks every assignment once with the keyset cursor, whatever the filter', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listAssignments(h.pool, { limit: 4, cursor });
      seen.push(...page.items.map((a) => a.assignment_id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    expect((await listAssignments(h.pool, { provider_id: 'p1', limit: 10 })).items).toHaveLength(3);
    expect((await listAssignments(h.pool, { status: 'refunded', limit: 10 })).items.map((a) => a.lead_id)).toEqual(['lead-b']);
  });

  it('changes nothing when the whole log is replayed', async () => {
    const before = await h.dump(['operator.assignments']);
    await h.replay(assignmentsProjection);
    expect(await h.dump(['operator.assignments'])).toBe(before);
  });
});
