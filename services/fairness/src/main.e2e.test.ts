import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DistributionEventData } from '@fairlead/contracts';
import { startServiceProcess, waitFor, type ServiceProcess } from '@fairlead/testing';
import { level, startHarness, type Harness } from './testing/harness';

let h: Harness;
let fairness: ServiceProcess;

beforeAll(async () => {
  h = await startHarness('fairness_proc');
  fairness = await startServiceProcess({
    service: 'fairness',
    env: { DATABASE_URL: h.db.url, NATS_URL: h.nc.getServer().includes('://') ? h.nc.getServer() : `nats://${h.nc.getServer()}`, NATS_NAMESPACE: h.subjects.namespace, RETRY_BACKOFF_MS: '200,400,800,1600', ACK_WAIT_MS: '2000', LOG_LEVEL: 'info' },
  });
});
afterAll(async () => {
  await fairness?.stop();
  await h?.close();
});

const levels = [level('e1', 1, 2, 1500), level('e1', 2, 1, 1000), level('e1', 3, 1, 500)];

describe('the fairness process', () => {
  it('serves subscription commands and distributes leads; after kill -9 and a restart every lead reaches one outcome and no invariant breaks', async () => {
    await h.seedNiche('e1', levels);
    const providers = ['a', 'b', 'c', 'd', 'e', 'f'].map((p) => `e1-${p}`);
    for (const [i, p] of providers.entries()) {
      // Two providers can pay for a few leads only: declines and backfills happen along the way.
      h.billing.fund(p, i < 2 ? 4_000 : 1_000_000);
      await h.subscribe({ provider_id: p, niche_id: 'e1', level_id: `e1-l${(i % 3) + 1}` });
      if (i % 2 === 0) await h.subscribe({ provider_id: p, niche_id: 'e1', level_id: `e1-l${((i + 1) % 3) + 1}` });
    }
    await waitFor(async () => (await h.db.pool.query('select count(*)::int as n from fairness.subscriptions')).rows[0].n === 9, { what: 'subscriptions projected' });

    h.billing.delayMs = 15;
    const leads = Array.from({ length: 40 }, (_, i) => `e1-lead-${i}`);
    for (const id of leads) await h.approveLead(id, 'e1');
    const completed = async () => (await Promise.all(leads.map((id) => h.leadEvents(id)))).filter((es) => es.some((e) => e.type === 'DistributionCompleted')).length;
    await waitFor(async () => (await completed()) >= 8, { what: 'some outcomes', timeoutMs: 30_000 });
    await fairness.kill();
    expect(await completed()).toBeLessThan(40);
    await fairness.restart();

    const outcomes = await Promise.all(leads.map((id) => h.waitForOutcome(id, 60_000)));
    const events = (await Promise.all(leads.map((id) => h.leadEvents(id)))).flat();
    // One outcome per lead, at most one assignment per (lead, provider), no level over max_recipients.
    expect(events.filter((e) => e.type === 'DistributionCompleted')).toHaveLength(40);
    const assigned = events.filter((e) => e.type === 'LeadAssigned').map((e) => e.data as DistributionEventData<'LeadAssigned'>);
    expect(new Set(assigned.map((a) => `${a.lead_id}:${a.provider_id}`)).size).toBe(assigned.length);
    for (const o of outcomes) {
      for (const l of levels) expect(o.assignments.filter((a) => a.level_id === l.level_id).length).toBeLessThanOrEqual(l.max_recipients);
    }
    // Every charge billing made is an assignment recorded, and the other way round.
    const charged = h.billing.charged().map((c) => `${c.lead_id}:${c.provider_id}:${c.amount_cents}`).sort();
    expect(assigned.map((a) => `${a.lead_id}:${a.provider_id}:${a.price_cents}`).sort()).toEqual(charged);
    // Receipt stats count each assignment exactly once, crash or not.
    const { rows } = await h.db.pool.query<{ subscription_id: string; day_count: number }>('select subscription_id, day_count from fairness.subscription_stats');
    const perSubscription = new Map<string, number>();
    for (const a of assigned) perSubscription.set(a.subscription_id, (perSubscription.get(a.subscription_id) ?? 0) + 1);
    expect(new Map(rows.map((r) => [r.subscription_id, r.day_count]))).toEqual(perSubscription);
    expect(outcomes.some((o) => o.outcome === 'partial')).toBe(true);
  });

  it('stops gracefully on SIGTERM', async () => {
    await fairness.stop();
    const lines = fairness.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; step?: string });
    expect(lines.filter((l) => l.msg === 'shutdown step done').map((l) => l.step)).toEqual(['http', 'fairness', 'nats', 'event store', 'postgres']);
    expect(lines.some((l) => l.msg === 'shutdown step failed')).toBe(false);
  });
});
