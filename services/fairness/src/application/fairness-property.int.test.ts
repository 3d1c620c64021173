/**
 * The fairness property through the real distribution code (distributeBatch) on real
 * PostgreSQL and NATS, over generated markets (fast-check): each market is distributed twice,
 * in a niche of its own each time — one lead at a time, and in the batches the market names —
 * and both runs must decide exactly what the reference model of the rules decides
 * (testing/market.ts): the same assignments and declines per lead and the same served order
 * per level, with no two assignments of a niche served at the same time. The model itself
 * gives equally eligible and funded providers shares that differ by at most one
 * (fairness-property.unit.test.ts), so these runs do too. A failure prints the shrunk market.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, SYSTEM_ACTOR, type DistributionEventData } from '@fairlead/contracts';
import type { FairnessService } from '../service';
import { level, startHarness, type Harness } from '../testing/harness';
import { equalShareViolations, levelId, marketArb, referenceModel, type LeadResult, type Market } from '../testing/market';
import { distributeBatch, type DistributeLeadDeps, type DistributeLeadInput } from './distribute-batch';

let h: Harness;
let service: FairnessService;
let deps: DistributeLeadDeps;

beforeAll(async () => {
  // No relay: the test calls distributeBatch itself, in the order and batches it chooses.
  h = await startHarness('fairness_property', { relay: false });
  service = await h.startService();
  deps = h.distributeDeps();
});
afterAll(async () => h?.close());

/**
 * Found by this property (shrunk): in one batch, lead 0 leaves Bronze for after billing's
 * answer in Gold, and lead 1 must not charge p01 in Silver before lead 0 charges it in
 * Bronze — one at a time, lead 0's charge comes first and leaves p01 short for Silver.
 */
const BALANCE_ACROSS_LEVELS: Market = {
  levels: [
    { max: 2, price: 1_000 },
    { max: 1, price: 250 },
    { max: 3, price: 100 },
  ],
  providers: [
    { id: 'p00', balance: 250, subscriptions: [0, 1, 2].map((level) => ({ level, states: ['CA'], dailyCap: null })) },
    { id: 'p01', balance: 250, subscriptions: [0, 1, 2].map((level) => ({ level, states: ['CA'], dailyCap: null })) },
    { id: 'p10', balance: 1_000_000, subscriptions: [{ level: 2, states: ['CA'], dailyCap: null }] },
  ],
  leads: ['CA', 'CA'],
  batches: [2],
};

/** The market as a niche of its own: levels, funded providers and their subscriptions, as rotation, billing and fairness record them. */
async function seed(niche: string, market: Market): Promise<void> {
  await h.seedNiche(
    niche,
    market.levels.map((l, i) => level(niche, i + 1, l.max, l.price)),
  );
  for (const p of market.providers) {
    h.billing.fund(`${niche}-${p.id}`, p.balance);
    for (const s of p.subscriptions) {
      const subscription_id = `${niche}-${p.id}-${levelId(s.level)}`;
      await h.store.append(
        streams.subscription(subscription_id),
        [
          {
            id: randomUUID(),
            type: 'SubscriptionCreated',
            data: {
              subscription_id,
              provider_id: `${niche}-${p.id}`,
              niche_id: niche,
              level_id: `${niche}-${levelId(s.level)}`,
              service_area: { postal_codes: [], states: s.states },
              daily_cap: s.dailyCap,
              monthly_cap: null,
              status: 'active',
              actor: SYSTEM_ACTOR,
            },
          },
        ],
        'no_stream',
      );
    }
  }
  await service.caughtUp();
}

async function approveAll(niche: string, market: Market): Promise<DistributeLeadInput[]> {
  const inputs: DistributeLeadInput[] = [];
  for (const [i, state] of market.leads.entries()) {
    const leadId = `${niche}-lead${i}`;
    await h.approveLead(leadId, niche, { postal_code: '00000', state });
    const requested = (await h.leadEvents(leadId)).find((e) => e.type === 'DistributionRequested')!;
    inputs.push({ request: requested.data as DistributionEventData<'DistributionRequested'>, attempt: 1 });
  }
  return inputs;
}

/** What the run recorded, in the model's terms (ids without the niche). */
async function recorded(niche: string, inputs: readonly DistributeLeadInput[]) {
  const strip = (id: string) => id.slice(niche.length + 1);
  const read = await h.store.readStreams(inputs.map((i) => streams.lead(i.request.lead_id)));
  const served: { at: string; level: string; key: string }[] = [];
  const leads = inputs.map((input, leadIndex): LeadResult => {
    const events = read.get(streams.lead(input.request.lead_id)) ?? [];
    const completed = events.find((e) => e.type === 'DistributionCompleted')?.data as DistributionEventData<'DistributionCompleted'> | undefined;
    if (!completed) throw new Error(`lead ${input.request.lead_id} has no outcome`);
    for (const e of events.filter((x) => x.type === 'LeadAssigned')) {
      const a = e.data as DistributionEventData<'LeadAssigned'>;
      served.push({ at: a.assigned_at, level: strip(a.level_id), key: `${leadIndex}:${strip(a.provider_id)}` });
    }
    const declined = events
      .filter((e) => e.type === 'ProviderSkipped' && (e.data as DistributionEventData<'ProviderSkipped'>).reason === 'insufficient_balance')
      .map((e) => e.data as DistributionEventData<'ProviderSkipped'>);
    return {
      assignments: completed.assignments.map((a) => `${strip(a.provider_id)}@${strip(a.level_id)}`).sort(),
      declined: declined.map((d) => `${strip(d.provider_id)}@${strip(d.level_id)}`).sort(),
    };
  });
  served.sort((a, b) => a.at.localeCompare(b.at));
  const servedOrder: Record<string, string[]> = {};
  for (const s of served) (servedOrder[s.level] ??= []).push(s.key);
  return { leads, servedOrder, distinctTimes: new Set(served.map((s) => s.at)).size === served.length };
}

/** The leads in the market's batches (the rest one by one), each batch decided by one distributeBatch call. */
async function distributeInBatches(niche: string, inputs: DistributeLeadInput[], sizes: readonly number[]): Promise<void> {
  let at = 0;
  for (const size of [...sizes, ...inputs.map(() => 1)]) {
    if (at >= inputs.length) break;
    const results = await distributeBatch(deps, niche, inputs.slice(at, at + size));
    expect(results.every((r) => r.ok)).toBe(true);
    at += size;
  }
}

describe('fairness over generated markets (real distribution code, PostgreSQL and NATS)', () => {
  it('one lead at a time and in batches, every decision is the model’s: LRU by the history of assignments, equal shares for equal providers', async () => {
    await fc.assert(
      fc.asyncProperty(marketArb, async (market) => {
        const model = referenceModel(market);
        expect(equalShareViolations(model).violations).toEqual([]);
        const run = randomUUID().slice(0, 8);

        const single = `one${run}`;
        await seed(single, market);
        const singleInputs = await approveAll(single, market);
        for (const input of singleInputs) expect((await distributeBatch(deps, single, [input]))[0]?.ok).toBe(true);

        const batched = `all${run}`;
        await seed(batched, market);
        const batchedInputs = await approveAll(batched, market);
        await distributeInBatches(batched, batchedInputs, market.batches);

        for (const result of [await recorded(single, singleInputs), await recorded(batched, batchedInputs)]) {
          expect(result.leads).toEqual(model.leads);
          expect(result.servedOrder).toEqual(Object.fromEntries(Object.entries(model.servedOrder).filter(([, order]) => order.length > 0)));
          expect(result.distinctTimes).toBe(true);
        }
      }),
      { numRuns: Number(process.env.FAIRNESS_PROPERTY_RUNS ?? 30), examples: [[BALANCE_ACROSS_LEVELS]] },
    );
  }, 600_000);
});
