/** The billing series read from /metrics after real commands over NATS. */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, listen, registerMetricsRoute, type HttpApp } from '@fairlead/platform';
import { metricValue, scrapeMetrics } from '@fairlead/testing';
import type { BillingService } from './service';
import { startBillingHarness, type BillingHarness } from './testing/harness';

let h: BillingHarness;
let billing: BillingService;
let app: HttpApp;
let base: string;

beforeAll(async () => {
  h = await startBillingHarness('billing_metrics');
  billing = await h.start();
  await h.seedLevels('n', [{ level_id: 'cheap', price: 30 }]);
  app = await createHttpApp({ logger: pino({ level: 'silent' }), serviceName: 'billing', openapi: { title: 'billing', version: '1' } });
  registerMetricsRoute(app, billing.registry);
  base = await listen(app, { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

const charge = (leadId: string, amount: number) =>
  h.command('charge', { provider_id: 'p', lead_id: leadId, subscription_id: 'p-cheap', level_id: 'cheap', amount_cents: amount });

describe('billing metrics', () => {
  it('count charges and declines, money moved, and the low-balance status changes', async () => {
    await h.command('register_provider', { provider_id: 'p', name: 'P', email: 'p@p.test' });
    await h.seedSubscription('p-cheap', 'p', 'cheap');
    await h.command('top_up', { provider_id: 'p', amount_cents: 1_000 });
    await billing.caughtUp();

    expect(await charge('lead-1', 500)).toMatchObject({ charged: true });
    expect(await charge('lead-1', 500)).toMatchObject({ charged: true }); // a repeat, answered from the record
    expect(await charge('lead-2', 480)).toMatchObject({ charged: true }); // 20 left < 30: the subscription pauses
    expect(await charge('lead-3', 30)).toMatchObject({ charged: false, reason: 'insufficient_balance' });
    await h.command('refund', { provider_id: 'p', lead_id: 'lead-2', reason: 'bad lead' }); // 500 ≥ 30: active again

    const text = await scrapeMetrics(base);
    expect(metricValue(text, 'billing_providers_registered_total')).toBe(1);
    expect(metricValue(text, 'billing_charges_total', { result: 'charged' })).toBe(2);
    expect(metricValue(text, 'billing_charges_total', { result: 'declined' })).toBe(1);
    expect(metricValue(text, 'billing_charged_usd_total')).toBeCloseTo(9.8);
    expect(metricValue(text, 'billing_top_ups_total')).toBe(1);
    expect(metricValue(text, 'billing_topped_up_usd_total')).toBeCloseTo(10);
    expect(metricValue(text, 'billing_refunds_total')).toBe(1);
    expect(metricValue(text, 'billing_refunded_usd_total')).toBeCloseTo(4.8);
    expect(metricValue(text, 'billing_subscription_status_changes_total', { to: 'paused_low_balance' })).toBe(1);
    expect(metricValue(text, 'billing_subscription_status_changes_total', { to: 'active' })).toBe(1);
  });
});
