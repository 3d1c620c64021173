/**
 * The fairness series read from /metrics after real distributions (the harness: real
 * PostgreSQL, NATS and relay; stand-in rotation and billing): every family is checked
 * against the outcomes the lead streams record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DistributionEventData } from '@fairlead/contracts';
import { createHttpApp, listen, registerMetricsRoute, type HttpApp } from '@fairlead/platform';
import { metricValue, scrapeMetrics, waitFor } from '@fairlead/testing';
import type { FairnessService } from './service';
import { level, startHarness, type Harness } from './testing/harness';

let h: Harness;
let service: FairnessService;
let app: HttpApp;
let base: string;
const outcomes: DistributionEventData<'DistributionCompleted'>[] = [];

beforeAll(async () => {
  h = await startHarness('fairness_metrics');
  service = await h.startService();
  app = await createHttpApp({ logger: h.logger, serviceName: 'fairness', openapi: { title: 'fairness', version: '1' } });
  registerMetricsRoute(app, service.registry);
  base = await listen(app, { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

async function niche(id: string, levels: ReturnType<typeof level>[], subscriptions: { provider: string; level: number; funds: number }[]) {
  await h.seedNiche(id, levels);
  for (const s of subscriptions) {
    h.billing.fund(s.provider, s.funds);
    await h.subscribe({ provider_id: s.provider, niche_id: id, level_id: `${id}-l${s.level}` });
  }
  await service.caughtUp();
}

async function distribute(leadId: string, nicheId: string) {
  await h.approveLead(leadId, nicheId);
  const outcome = await h.waitForOutcome(leadId);
  outcomes.push(outcome);
  return outcome;
}

describe('fairness metrics', () => {
  it('count outcomes, assignments, skips, prices, durations, newcomer priority and the rotation position', async () => {
    // m1: three providers for two slots; the one left out is a newcomer the next time.
    await niche('m1', [level('m1', 1, 2, 1000)], [
      { provider: 'm1-a', level: 1, funds: 10_000 },
      { provider: 'm1-b', level: 1, funds: 10_000 },
      { provider: 'm1-c', level: 1, funds: 10_000 },
    ]);
    expect((await distribute('m1-lead-1', 'm1')).outcome).toBe('success');
    let text = await scrapeMetrics(base);
    // Everyone was new: nobody was preferred over a provider served before.
    expect(metricValue(text, 'fairness_new_provider_priority_total')).toBe(0);
    const second = await distribute('m1-lead-2', 'm1');
    expect(second.assignments.map((a) => a.provider_id)).toEqual(['m1-c', 'm1-a']);

    // m2: two levels (the rotation moves the start), a provider who cannot pay is skipped.
    await niche('m2', [level('m2', 1, 2, 500), level('m2', 2, 1, 2500)], [
      { provider: 'm2-rich', level: 1, funds: 100_000 },
      { provider: 'm2-poor', level: 1, funds: 100 },
      { provider: 'm2-top', level: 2, funds: 100_000 },
    ]);
    const m2first = await distribute('m2-lead-1', 'm2');
    const m2second = await distribute('m2-lead-2', 'm2');
    expect([m2first.start_order_position, m2second.start_order_position]).toEqual([1, 2]);
    expect(outcomes.flatMap((o) => o.skipped.map((s) => s.reason))).toContain('insufficient_balance');

    // m3: no subscriber at all.
    await niche('m3', [level('m3', 1, 1, 1000)], []);
    expect((await distribute('m3-lead-1', 'm3')).outcome).toBe('no_eligible');

    text = await scrapeMetrics(base);
    for (const status of ['success', 'partial', 'no_eligible']) {
      expect(metricValue(text, 'distribution_total', { status }), status).toBe(outcomes.filter((o) => o.outcome === status).length);
    }
    expect(metricValue(text, 'distribution_total', { status: 'success' })).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, 'distribution_total', { status: 'no_eligible' })).toBe(1);
    expect(metricValue(text, 'distribution_total', { status: 'failed' })).toBe(0);

    const assignments = outcomes.flatMap((o) => o.assignments.map((a) => ({ ...a, niche_id: o.niche_id })));
    for (const levelId of new Set(assignments.map((a) => a.level_id))) {
      const here = assignments.filter((a) => a.level_id === levelId);
      expect(metricValue(text, 'distribution_assignments_total', { level_id: levelId, niche_id: here[0]!.niche_id }), levelId).toBe(here.length);
      // The original plan's name for the same count.
      expect(metricValue(text, 'assignment_total', { level_id: levelId, niche_id: here[0]!.niche_id }), levelId).toBe(here.length);
      expect(metricValue(text, 'assignment_price_usd_count', { level_id: levelId })).toBe(here.length);
      expect(metricValue(text, 'assignment_price_usd_sum', { level_id: levelId })).toBeCloseTo(here.reduce((sum, a) => sum + a.price_cents / 100, 0));
    }
    expect(metricValue(text, 'distribution_assignments_total', { level_id: 'm1-l1', niche_id: 'm1' })).toBe(4);
    expect(metricValue(text, 'assignment_price_usd_sum', { level_id: 'm1-l1' })).toBe(40);
    expect(metricValue(text, 'assignment_price_usd_bucket', { level_id: 'm1-l1', le: '10' })).toBe(4);
    expect(metricValue(text, 'assignment_price_usd_bucket', { level_id: 'm1-l1', le: '5' })).toBe(0);

    const skips = outcomes.flatMap((o) => o.skipped);
    expect(metricValue(text, 'distribution_skipped_total', { reason: 'insufficient_balance' })).toBe(skips.filter((s) => s.reason === 'insufficient_balance').length);
    expect(metricValue(text, 'distribution_skipped_total')).toBe(skips.length);

    expect(metricValue(text, 'distribution_duration_ms_count')).toBe(outcomes.length);
    expect(metricValue(text, 'distribution_duration_ms_sum')).toBeCloseTo(outcomes.reduce((sum, o) => sum + o.duration_ms, 0));

    // m1-c was picked ahead of a and b, who had been served.
    expect(metricValue(text, 'fairness_new_provider_priority_total')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'fairness_rotation_position', { niche_id: 'm2' })).toBe(2);
    expect(metricValue(text, 'fairness_rotation_position', { niche_id: 'm1' })).toBe(1);

    // The durable consumer handled one work item per lead and is not behind.
    await waitFor(async () => metricValue(await scrapeMetrics(base), 'consumer_lag_messages', { consumer: 'fairness-distribution' }) === 0, {
      what: 'the distribution consumer caught up',
    });
    text = await scrapeMetrics(base);
    expect(metricValue(text, 'consumer_messages_total', { consumer: 'fairness-distribution', result: 'processed' })).toBe(outcomes.length);
    expect(metricValue(text, 'consumer_dead_lettered', { consumer: 'fairness-distribution' })).toBe(0);
  });

  it('counts a dead-lettered distribution as failed', async () => {
    // A request for a lead that was never approved fails permanently: DistributionFailed (final), then the dead-letter queue.
    await h.requestDistribution('m9-never-approved', 'm1');
    await waitFor(async () => metricValue(await scrapeMetrics(base), 'distribution_total', { status: 'failed' }) === 1, { what: 'the failed distribution counted' });
    await waitFor(async () => metricValue(await scrapeMetrics(base), 'consumer_dead_lettered', { consumer: 'fairness-distribution' }) === 1, {
      what: 'the dead letter counted',
    });
    const text = await scrapeMetrics(base);
    expect(metricValue(text, 'consumer_messages_total', { consumer: 'fairness-distribution', result: 'dead_lettered' })).toBe(1);
  });
});
