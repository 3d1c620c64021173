/**
 * Deciding a niche's queued leads together gives what deciding them one at a time gives:
 * the same start levels, picks, skips and outcomes — also when billing declines a charge in
 * the middle of a batch (the later leads take their picks back and are decided again) —
 * on real PostgreSQL and NATS, with the rotation and billing stand-ins.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, type DistributionEventData } from '@fairlead/contracts';
import { PermanentError } from '@fairlead/messaging';
import type { FairnessService } from '../service';
import { level, startHarness, type Harness } from '../testing/harness';
import { distributeBatch, type DistributeLeadDeps, type DistributeLeadInput } from './distribute-batch';

let h: Harness;
let service: FairnessService;
let deps: DistributeLeadDeps;

beforeAll(async () => {
  // No relay: nothing reaches the service's consumer, the test calls distributeBatch itself.
  h = await startHarness('fairness_batch', { relay: false });
  service = await h.startService();
  deps = h.distributeDeps();
});
afterAll(async () => h?.close());

/**
 * Two levels (l1: 2 recipients at 1000, l2: 1 at 500) and providers whose funds run out at
 * different leads, one of them in both levels (cross-level dedupe).
 */
async function seed(niche: string): Promise<void> {
  await h.seedNiche(niche, [level(niche, 1, 2, 1000), level(niche, 2, 1, 500)]);
  const providers: [string, number, number[]][] = [
    ['p1', 1500, [1]],
    ['p2', 100_000, [1, 2]],
    ['p3', 2000, [1]],
    ['p4', 3000, [1]],
    ['q1', 500, [2]],
    ['q2', 1200, [2]],
  ];
  for (const [p, funds, levels] of providers) {
    h.billing.fund(`${niche}-${p}`, funds);
    for (const l of levels) await h.subscribe({ provider_id: `${niche}-${p}`, niche_id: niche, level_id: `${niche}-l${l}` });
  }
  await service.caughtUp();
}

async function approve(niche: string, count: number): Promise<DistributeLeadInput[]> {
  const inputs: DistributeLeadInput[] = [];
  for (let i = 0; i < count; i++) {
    const leadId = `${niche}-lead-${i}`;
    await h.approveLead(leadId, niche);
    const requested = (await h.leadEvents(leadId)).find((e) => e.type === 'DistributionRequested')!;
    inputs.push({ request: requested.data as DistributionEventData<'DistributionRequested'>, attempt: 1 });
  }
  return inputs;
}

/** An outcome with the niche taken out of every id, so two niches' outcomes compare. */
const comparable = (niche: string, o: DistributionEventData<'DistributionCompleted'>) => {
  const strip = (id: string) => id.replace(`${niche}-`, '');
  return {
    outcome: o.outcome,
    start: o.start_order_position,
    traversal: o.traversal.map(strip),
    assignments: o.assignments.map((a) => `${strip(a.provider_id)}@${strip(a.level_id)}`),
    skipped: o.skipped.map((s) => `${strip(s.provider_id)}@${strip(s.level_id)}:${s.reason}`).sort(),
  };
};

async function outcomes(niche: string, inputs: readonly DistributeLeadInput[]) {
  const events = await h.store.readStreams(inputs.map((i) => streams.lead(i.request.lead_id)));
  return inputs.map((i) => {
    const completed = events.get(streams.lead(i.request.lead_id))!.find((e) => e.type === 'DistributionCompleted');
    return comparable(niche, completed!.data as DistributionEventData<'DistributionCompleted'>);
  });
}

describe('distributeBatch', () => {
  it('decides a niche’s leads together exactly as one at a time, declines mid-batch included', async () => {
    await seed('one');
    await seed('all');
    const one = await approve('one', 14);
    const all = await approve('all', 14);

    for (const input of one) {
      const [result] = await distributeBatch(deps, 'one', [input]);
      expect(result?.ok).toBe(true);
    }
    const batchesBefore = h.billing.batches.length;
    const results = await distributeBatch(deps, 'all', all);
    expect(results.every((r) => r.ok)).toBe(true);

    const expected = await outcomes('one', one);
    expect(await outcomes('all', all)).toEqual(expected);
    // The run is not trivial: funds ran out on the way, so some leads were partial or got fewer picks.
    expect(expected.some((o) => o.skipped.some((s) => s.endsWith(':insufficient_balance')))).toBe(true);
    expect(expected.map((o) => o.start)).toEqual([1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);

    // Billing was asked in batches, and declines sent later leads back to be decided again.
    const sizes = h.billing.batches.slice(batchesBefore);
    expect(Math.max(...sizes)).toBeGreaterThan(4);
    const withdrawn = (await h.store.readStreams(all.map((i) => streams.lead(i.request.lead_id)))).values();
    expect([...withdrawn].flat().filter((e) => e.type === 'PicksWithdrawn').length).toBeGreaterThan(0);
    // Every charge that took money belongs to an assignment, and no provider was charged twice for a lead.
    const charged = h.billing.charged().filter((c) => c.lead_id.startsWith('all-'));
    const assignments = (await outcomes('all', all)).flatMap((o, i) => o.assignments.map((a) => `${i}:${a.split('@')[0]}`));
    expect(charged.map((c) => `${c.lead_id.split('-').at(-1)}:${c.provider_id.replace('all-', '')}`).sort()).toEqual(assignments.sort());
  });

  it('gives the same result against a rotation and a billing that only take one lead per request', async () => {
    await h.rotation.stop();
    await h.billing.stop();
    h.rotation.serveBatch = false;
    h.billing.serveBatch = false;
    h.rotation.start();
    h.billing.start();
    try {
      await seed('old');
      const inputs = await approve('old', 14);
      const results = await distributeBatch(deps, 'old', inputs);
      expect(results.every((r) => r.ok)).toBe(true);
      expect(await outcomes('old', inputs)).toEqual(await outcomes('one', inputs.map((_, i) => ({ ...inputs[i]!, request: { ...inputs[i]!.request, lead_id: `one-lead-${i}` } }))));
    } finally {
      await h.rotation.stop();
      await h.billing.stop();
      h.rotation.serveBatch = true;
      h.billing.serveBatch = true;
      h.rotation.start();
      h.billing.start();
    }
  });

  it('answers each request on its own: a lead twice, a lead never approved, a lead of another niche, a lead already done', async () => {
    await seed('mix');
    const [a, b] = await approve('mix', 2);
    const ghost: DistributeLeadInput = { request: { ...a!.request, lead_id: 'mix-ghost', request_id: '00000000-0000-4000-8000-000000000001' }, attempt: 1 };
    // Approved in another niche, but requested under this one.
    await h.approveLead('mix-foreign', 'elsewhere');
    const stranger: DistributeLeadInput = { request: { ...b!.request, lead_id: 'mix-foreign', request_id: '00000000-0000-4000-8000-000000000002' }, attempt: 1 };
    const first = await distributeBatch(deps, 'mix', [a!]);
    expect(first[0]?.ok).toBe(true);

    const results = await distributeBatch(deps, 'mix', [a!, b!, ghost, b!, stranger]);
    expect(results.map((r) => r.ok)).toEqual([true, true, false, true, false]);
    expect(results[0]).toEqual(first[0]);
    expect(results[1]).toEqual(results[3]);
    const notApproved = results[2]!.ok ? undefined : results[2]!.error;
    expect(notApproved).toBeInstanceOf(PermanentError);
    expect((notApproved as PermanentError).code).toBe('FAIRNESS_LEAD_NOT_APPROVED');
    const mismatch = results[4]!.ok ? undefined : results[4]!.error;
    expect((mismatch as PermanentError).code).toBe('FAIRNESS_NICHE_MISMATCH');
    // b was decided once: one DistributionCompleted, its picks charged once.
    const bEvents = await h.leadEvents(b!.request.lead_id);
    expect(bEvents.filter((e) => e.type === 'DistributionCompleted')).toHaveLength(1);
    expect(h.billing.charged().filter((c) => c.lead_id === b!.request.lead_id)).toHaveLength(3);
  });
});
