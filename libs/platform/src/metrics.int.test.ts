import { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, listen, type HttpApp } from './http/app';
import { createLogger } from './logger';
import { createMetricsRegistry, registerMetricsRoute } from './metrics';

describe('metrics route', () => {
  let app: HttpApp;
  let base: string;
  const registry = createMetricsRegistry('metrics-test');
  const sent = new Counter({ name: 'test_emails_sent_total', help: 'emails sent', labelNames: ['template'], registers: [registry] });

  beforeAll(async () => {
    app = await createHttpApp({ logger: createLogger({ service: 'metrics-test', level: 'silent' }), serviceName: 'metrics-test', openapi: { title: 't', version: '1' } });
    registerMetricsRoute(app, registry);
    base = await listen(app, { host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());

  it('serves the registry in the Prometheus text format with the service label', async () => {
    sent.inc({ template: 'lead_assigned' }, 2);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    expect(body).toContain('# TYPE test_emails_sent_total counter');
    expect(body).toContain('test_emails_sent_total{template="lead_assigned",service="metrics-test"} 2');
    expect(body).toMatch(/^process_cpu_user_seconds_total\{service="metrics-test"\} /m);
  });

  it('keeps registries of two services apart', async () => {
    const other = createMetricsRegistry('other', { defaultMetrics: false });
    expect(await other.metrics()).not.toContain('test_emails_sent_total');
  });
});
