import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

/**
 * Wake-ups per second of an otherwise idle Node process after `setup` runs (voluntary context
 * switches of its main thread: each is a return from waiting on the event loop).
 */
async function idleWakesPerSecond(setup: string): Promise<number> {
  const script = `${setup}
const switches = async () => Number(/^voluntary_ctxt_switches:\\s+(\\d+)/m.exec(await (await import('node:fs/promises')).readFile('/proc/self/task/' + process.pid + '/status', 'utf8'))[1]);
await new Promise((r) => setTimeout(r, 300));
const before = await switches();
const started = performance.now();
await new Promise((r) => setTimeout(r, 1000));
const after = await switches();
console.log(JSON.stringify({ wakes: (after - before) / ((performance.now() - started) / 1000) }));
process.exit(0);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return (JSON.parse(out.trim().split('\n').pop()!) as { wakes: number }).wakes;
}

describe('default metrics on an idle process', () => {
  const metricsModule = JSON.stringify(fileURLToPath(new URL('./metrics.ts', import.meta.url)));

  it('wake it ~10 times a second (the event-loop histogram every 100 ms), not 100 (prom-client sampling every 10 ms)', async () => {
    const [ours, promClientDefault] = await Promise.all([
      idleWakesPerSecond(`const { createMetricsRegistry } = await import(${metricsModule}); createMetricsRegistry('idle');`),
      // The measure itself: prom-client's own default is seen as ~100 wakes a second.
      idleWakesPerSecond(`const { collectDefaultMetrics, Registry } = await import('prom-client'); collectDefaultMetrics({ register: new Registry() });`),
    ]);
    expect(promClientDefault).toBeGreaterThan(50);
    expect(ours).toBeLessThan(25);
  });

  it('still serve the event-loop delay', async () => {
    const registry = createMetricsRegistry('lag-test');
    // A stall longer than the sampling period is recorded.
    await new Promise((r) => setTimeout(r, 150));
    const end = Date.now() + 250;
    while (Date.now() < end);
    await new Promise((r) => setTimeout(r, 150));
    const body = await registry.metrics();
    const max = Number(/^nodejs_eventloop_lag_max_seconds\{service="lag-test"\} (\S+)$/m.exec(body)?.[1]);
    expect(max).toBeGreaterThan(0.1);
  });
});
