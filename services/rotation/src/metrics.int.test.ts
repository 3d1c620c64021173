/** The rotation series read from /metrics after real commands over NATS. */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, listen, registerMetricsRoute, type HttpApp } from '@fairlead/platform';
import { metricValue, scrapeMetrics } from '@fairlead/testing';
import { startRotationHarness, type RotationHarness } from './testing/harness';

let h: RotationHarness;
let app: HttpApp;
let base: string;

beforeAll(async () => {
  h = await startRotationHarness('rotation_metrics');
  const instance = await h.start();
  app = await createHttpApp({ logger: pino({ level: 'silent' }), serviceName: 'rotation', openapi: { title: 'rotation', version: '1' } });
  registerMetricsRoute(app, instance.service.registry);
  base = await listen(app, { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

describe('rotation metrics', () => {
  it('count claims per niche (single and batch), show where the pointer stands, and count configuration changes', async () => {
    const { niche_id } = await h.command('create_niche', { name: 'Roofing' });
    for (const n of [1, 2, 3]) {
      await h.command('add_level', { niche_id, level_id: `${niche_id}-l${n}`, name: `Level ${n}`, order_position: n, max_recipients: 1, price_per_lead_cents: 1000 });
    }
    let text = await scrapeMetrics(base);
    expect(metricValue(text, 'rotation_niche_changes_total', { type: 'NicheCreated' })).toBe(1);
    expect(metricValue(text, 'rotation_niche_changes_total', { type: 'CompetitionLevelAdded' })).toBe(3);
    expect(metricValue(text, 'rotation_start_level_claims_total', { niche_id })).toBeUndefined();

    const starts: number[] = [];
    for (const lead of ['a', 'b', 'c', 'd']) starts.push((await h.command('claim_start_level', { niche_id, lead_id: `lead-${lead}` })).start_order_position);
    // A repeated claim for a lead is answered from the record: nothing new is counted.
    await h.command('claim_start_level', { niche_id, lead_id: 'lead-a' });
    expect(starts).toEqual([1, 2, 3, 1]);

    text = await scrapeMetrics(base);
    expect(metricValue(text, 'rotation_start_level_claims_total', { niche_id })).toBe(4);
    expect(metricValue(text, 'rotation_next_start_position', { niche_id })).toBe(2);

    // A batch counts each new claim once; its repeated lead is not counted.
    const batch = await h.command('claim_start_levels', { niche_id, lead_ids: ['lead-e', 'lead-a', 'lead-f', 'lead-g'] });
    expect(batch.claims.map((c) => ('start_order_position' in c ? c.start_order_position : c.error.code))).toEqual([2, 1, 3, 1]);
    text = await scrapeMetrics(base);
    expect(metricValue(text, 'rotation_start_level_claims_total', { niche_id })).toBe(7);
    expect(metricValue(text, 'rotation_next_start_position', { niche_id })).toBe(2);
  });
});
