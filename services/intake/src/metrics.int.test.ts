/**
 * The intake series read from /metrics after real work: leads over NATS (one approved
 * twice, one malformed and dead-lettered) and over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { rotationCommands, type CommandReply } from '@fairlead/contracts';
import { publishDurable, serveRequests } from '@fairlead/messaging';
import { createHttpApp, listen, registerMetricsRoute, type HttpApp } from '@fairlead/platform';
import { metricValue, scrapeMetrics, waitFor } from '@fairlead/testing';
import { registerIntakeRoutes } from './http/routes';
import { leadPayload, startIntakeHarness, testHttpAuth, upstreamHeaders, type IntakeHarness } from './testing/harness';

let h: IntakeHarness;
let app: HttpApp;
let base: string;

beforeAll(async () => {
  // Long enough for a test to hold rotation's answer while it reads the lag.
  h = await startIntakeHarness('intake_metrics', { requestTimeoutMs: 30_000 });
  h.niches.add('auto', true);
  h.niches.add('manual', false);
  app = await createHttpApp({ logger: pino({ level: 'silent' }), serviceName: 'intake', openapi: { title: 'intake', version: '1' } });
  registerMetricsRoute(app, h.service.registry);
  registerIntakeRoutes(app, h.service.commands, testHttpAuth());
  base = await listen(app, { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

const publish = (payload: unknown) => publishDurable(h.js, h.subjects.leadApproved, payload, { msgID: randomUUID() });

describe('intake metrics', () => {
  it('count approvals and rejections by channel, distribution requests, and the consumer', async () => {
    await publish(leadPayload('m-auto', 'auto'));
    await publish(leadPayload('m-auto', 'auto')); // a repeat: nothing new is recorded
    await publish(leadPayload('m-manual', 'manual'));
    await publish({ ...leadPayload('m-bad', 'auto'), approved_at: 'yesterday' });
    await waitFor(() => h.service.stats().processed + h.service.stats().deadLettered === 4, { what: 'four messages handled' });
    const res = await fetch(`${base}/v1/leads/approved`, { method: 'POST', headers: { 'content-type': 'application/json', ...upstreamHeaders }, body: JSON.stringify(leadPayload('m-http', 'auto')) });
    expect(res.status).toBe(202);

    const text = await scrapeMetrics(base);
    expect(metricValue(text, 'intake_leads_approved_total', { via: 'nats' })).toBe(2);
    expect(metricValue(text, 'intake_leads_approved_total', { via: 'http' })).toBe(1);
    expect(metricValue(text, 'intake_leads_rejected_total', { via: 'nats' })).toBe(1);
    expect(metricValue(text, 'intake_leads_rejected_total', { via: 'http' })).toBe(0);
    // m-auto and m-http are in an auto-distributing niche; m-manual is not.
    expect(metricValue(text, 'intake_distribution_requests_total')).toBe(2);

    const consumer = { consumer: 'intake-lead-approved' };
    expect(metricValue(text, 'consumer_messages_total', { ...consumer, result: 'processed' })).toBe(3);
    expect(metricValue(text, 'consumer_messages_total', { ...consumer, result: 'dead_lettered' })).toBe(1);
    expect(metricValue(text, 'consumer_dead_lettered', consumer)).toBe(1);
    await waitFor(async () => metricValue(await scrapeMetrics(base), 'consumer_lag_messages', consumer) === 0, { what: 'no lag left' });
    expect(metricValue(await scrapeMetrics(base), 'consumer_pending_messages', consumer)).toBe(0);
  });

  it('reports the messages held while rotation is slow to answer as lag, and none once they are done', async () => {
    const consumer = { consumer: 'intake-lead-approved' };
    await h.niches.stop();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slowRotation = serveRequests(h.nc, h.subjects.command('rotation', 'get_niche'), {
      requestSchema: rotationCommands.get_niche.request,
      handler: async ({ niche_id }): Promise<CommandReply<'rotation', 'get_niche'>> => {
        await gate;
        return { niche_id, name: niche_id, auto_distribute: false, levels: [], next_start_order_position: 1, version: 0 };
      },
    });
    try {
      // A niche intake has not looked up yet: a cached one would need no rotation.
      for (let i = 0; i < 3; i++) await publish(leadPayload(`m-lag-${i}`, 'unasked'));
      await waitFor(async () => metricValue(await scrapeMetrics(base), 'consumer_lag_messages', consumer) === 3, { what: 'three messages behind' });
      expect(metricValue(await scrapeMetrics(base), 'consumer_in_flight_messages', consumer)).toBe(3);
    } finally {
      release();
      await slowRotation.stop();
      h.niches.start();
    }
    await waitFor(async () => metricValue(await scrapeMetrics(base), 'consumer_lag_messages', consumer) === 0, { what: 'the consumer caught up again' });
    expect(metricValue(await scrapeMetrics(base), 'intake_leads_approved_total', { via: 'nats' })).toBe(5);
  });
});
