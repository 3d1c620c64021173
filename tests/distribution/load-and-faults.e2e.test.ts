/**
 * Lead distribution under load and faults, end to end: 200 leads approved at once in one niche;
 * kill -9 of the fairness and then the billing process in the middle of such a run;
 * billing down for longer than the first retry. The invariants are read from the event
 * store (tests/support/invariants.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DistributionEventData } from '@fairlead/contracts';
import { SETUP_TIMEOUT_MS, waitFor } from '@fairlead/testing';
import { checkInvariants, collectFacts } from '../support/invariants';
import { seedNiche, seedProvider, seedSubscription, unique, type SeededNiche } from '../support/seed';
import { leadPayload, startDistributionSystem, type DistributionSystem } from '../support/system';

// Generous later delays: a restarted process on a loaded 2-core machine may take seconds to be ready.
const BACKOFF_MS = [500, 1000, 4000, 8000, 16000];
let system: DistributionSystem;

beforeAll(async () => {
  system = await startDistributionSystem('load', { backoffMs: BACKOFF_MS });
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  await system?.close();
});

const LEVELS = [
  { max_recipients: 2, price_per_lead_cents: 300 },
  { max_recipients: 2, price_per_lead_cents: 200 },
  { max_recipients: 1, price_per_lead_cents: 100 },
];

/**
 * A niche with 12 providers over 3 levels. Every fourth provider holds 250 cents and
 * subscribes to levels 1 (300) and 3 (100): the cheap level keeps it active under the
 * low-balance rule, so its level-1 picks are declined and backfilled.
 */
async function seedMarket(label: string): Promise<{ niche: SeededNiche; providers: string[] }> {
  const niche = await seedNiche(system, label, LEVELS);
  const providers: string[] = [];
  for (let i = 0; i < 12; i++) {
    const short = i % 4 === 0;
    const id = await seedProvider(system, unique(`${label}p${i}`), short ? 250 : 200_000);
    providers.push(id);
    const positions = short ? [1, 3] : i % 5 === 1 ? [(i % 3) + 1, ((i + 1) % 3) + 1] : [(i % 3) + 1];
    for (const position of positions) await seedSubscription(system, id, niche, position);
  }
  return { niche, providers };
}

async function approveAll(niche: SeededNiche, count: number, label: string): Promise<string[]> {
  const leads = Array.from({ length: count }, (_, i) => unique(`${label}-lead${i}`));
  await Promise.all(leads.map((id) => system.publishLead(leadPayload(id, niche.niche_id))));
  return leads;
}

async function outcomesCount(leads: string[]): Promise<number> {
  const { rows } = await system.db.pool.query<{ n: number }>(
    `select count(*)::int as n from eventstore.events where type = 'DistributionCompleted' and stream_name = any($1)`,
    [leads.map((id) => `lead-${id}`)],
  );
  return rows[0]!.n;
}

function maxRecipientsOf(niche: SeededNiche): Record<string, number> {
  return Object.fromEntries(niche.levels.map((id, i) => [id, LEVELS[i]!.max_recipients]));
}

describe('distribution under load and faults', () => {
  it('200 leads approved at once in one niche keep every invariant', async () => {
    const { niche, providers } = await seedMarket('burst');
    const leads = await approveAll(niche, 200, 'burst');
    await waitFor(async () => (await outcomesCount(leads)) === 200, { timeoutMs: 180_000, intervalMs: 250, what: '200 outcomes' });

    const facts = await collectFacts(system, niche.niche_id, leads, providers);
    expect(facts.claims).toHaveLength(200);
    expect(checkInvariants(facts, { levels: 3, leadIds: leads, maxRecipients: maxRecipientsOf(niche) })).toEqual([]);
    // The market was built so that some charges are declined: the invariants were exercised.
    expect(facts.outcomes.some((o) => o.skipped.some((s) => s.reason === 'insufficient_balance'))).toBe(true);
    expect(facts.assignments.length).toBeGreaterThan(600);
  });

  it('kill -9 of fairness and then billing mid-run: every lead reaches an outcome and every invariant holds', async () => {
    const { niche, providers } = await seedMarket('crash');
    // Three bursts' worth at once: fairness decides a niche's queue in batches of up to 100,
    // so 200 leads can be done before the first kill lands; 600 leave a middle to crash in.
    const total = 600;
    const leads = await approveAll(niche, total, 'crash');

    await waitFor(async () => (await outcomesCount(leads)) >= 60, { timeoutMs: 120_000, intervalMs: 20, what: '60 outcomes before the first crash' });
    await system.services.fairness.kill();
    const afterFairnessCrash = await outcomesCount(leads);
    expect(afterFairnessCrash).toBeLessThan(total);
    await system.services.fairness.restart();

    await waitFor(async () => (await outcomesCount(leads)) >= afterFairnessCrash + 60, { timeoutMs: 120_000, intervalMs: 20, what: '60 more outcomes before the second crash' });
    await system.services.billing.kill();
    expect(await outcomesCount(leads)).toBeLessThan(total);
    await system.services.billing.restart();

    await waitFor(async () => (await outcomesCount(leads)) === total, { timeoutMs: 180_000, intervalMs: 250, what: `all ${total} outcomes after the crashes` });
    const facts = await collectFacts(system, niche.niche_id, leads, providers);
    expect(checkInvariants(facts, { levels: 3, leadIds: leads, maxRecipients: maxRecipientsOf(niche) })).toEqual([]);
    // 600 leads, two kills and two restarts: the waits above bound it, not the default test timeout.
  }, 420_000);

  it('billing down longer than the first retry: the work item is retried on schedule and completes once billing is back', async () => {
    const niche = await seedNiche(system, 'outage', [{ max_recipients: 1, price_per_lead_cents: 500 }]);
    const p = await seedProvider(system, unique('outagep'), 5_000);
    await seedSubscription(system, p, niche, 1);

    await system.services.billing.stop();
    const lead = unique('outage-lead');
    await system.publishLead(leadPayload(lead, niche.niche_id));
    const failures = async () =>
      (await system.leadEvents(lead)).filter((e) => e.type === 'DistributionFailed').map((e) => e.data as DistributionEventData<'DistributionFailed'>);
    // The first attempt and its retry both fail while billing is down.
    await waitFor(async () => (await failures()).length >= 2, { timeoutMs: 30_000, what: 'two failed attempts' });
    await system.services.billing.restart();
    const outcome = await system.waitForOutcome(lead, 60_000);

    const failed = await failures();
    expect(failed.every((f) => !f.final)).toBe(true);
    expect(failed.map((f) => f.attempt)).toEqual(failed.map((_, i) => i + 1));
    // Retried on schedule: attempt n+1 starts no sooner than the n-th delay after attempt n failed.
    for (let i = 1; i < failed.length; i++) {
      const gap = Date.parse(failed[i]!.failed_at) - Date.parse(failed[i - 1]!.failed_at);
      expect(gap).toBeGreaterThanOrEqual(BACKOFF_MS[i - 1]! - 50);
    }
    expect(outcome.attempt).toBe(failed.length + 1);
    expect(outcome.outcome).toBe('success');
    expect(outcome.assignments.map((a) => a.provider_id)).toEqual([p]);
  });
});
