/**
 * `npm start`'s readiness watch against real HTTP servers answering /readyz: the quick pace
 * while a service is not ready, the slow one once all are (each round costs every service a
 * request, a PostgreSQL query and a NATS round trip), and probeSoon() for a service that may
 * have dropped out — never quicker than the quick pace, however often it is called.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { watchReadiness, type ReadinessWatch } from './readiness';

interface FakeService {
  url: string;
  /** Requests to /readyz so far. */
  probes: number;
  ready: boolean;
  server: Server;
}

async function fakeService(ready: boolean): Promise<FakeService> {
  const service = { url: '', probes: 0, ready } as FakeService;
  service.server = createServer((req, res) => {
    if (req.url === '/readyz') service.probes++;
    res.writeHead(service.ready ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ checks: { postgres: service.ready ? { status: 'up' } : { status: 'down', error: 'test' } } }));
  });
  await new Promise<void>((resolve) => service.server.listen(0, '127.0.0.1', resolve));
  service.url = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;
  return service;
}

describe('the readiness watch of npm start', () => {
  const started: { services: FakeService[]; watch?: ReadinessWatch }[] = [];
  afterEach(async () => {
    for (const s of started.splice(0)) {
      s.watch?.stop();
      await Promise.all(s.services.map((f) => new Promise((r) => f.server.close(r))));
    }
  });
  const setUp = async (options: { intervalMs: number; readyIntervalMs: number }, readiness: boolean[]) => {
    const services = await Promise.all(readiness.map((r) => fakeService(r)));
    const lines: string[] = [];
    const watch = watchReadiness(
      services.map((s, i) => ({ name: `s${i}`, url: s.url })),
      { log: (l) => lines.push(l), ...options },
    );
    started.push({ services, watch });
    return { services, lines, watch, probes: () => services.reduce((n, s) => n + s.probes, 0) };
  };

  it('probes every intervalMs while one is not ready, and no more than every readyIntervalMs once all are', async () => {
    const { services, lines, probes } = await setUp({ intervalMs: 20, readyIntervalMs: 60_000 }, [true, false]);
    await expect.poll(() => services[1]!.probes, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    services[1]!.ready = true;
    await expect.poll(() => lines.some((l) => l.startsWith('ready: all 2 services')), { timeout: 10_000 }).toBe(true);
    const after = probes();
    // 300 ms: fifteen rounds at the quick pace (thirty probes), none at the slow one.
    await new Promise((r) => setTimeout(r, 300));
    expect(probes()).toBe(after);
  });

  it('probes at once on probeSoon(), says who dropped out, and keeps the quick pace until it is back', async () => {
    const { services, lines, watch } = await setUp({ intervalMs: 20, readyIntervalMs: 60_000 }, [true, true]);
    await expect.poll(() => lines.some((l) => l.startsWith('ready: all 2 services')), { timeout: 10_000 }).toBe(true);
    services[0]!.ready = false;
    watch.probeSoon();
    await expect.poll(() => lines.find((l) => l.startsWith('not ready:')), { timeout: 10_000 }).toBe('not ready: s0 (postgres: test)');
    const probesWhileDown = services[0]!.probes;
    await expect.poll(() => services[0]!.probes, { timeout: 10_000 }).toBeGreaterThanOrEqual(probesWhileDown + 3);
    services[0]!.ready = true;
    await expect.poll(() => lines.at(-1), { timeout: 10_000 }).toBe('ready again: all 2 services answer /readyz');
  });

  it('is not made to probe quicker than intervalMs by a storm of probeSoon() calls', async () => {
    const { services, lines, watch } = await setUp({ intervalMs: 200, readyIntervalMs: 60_000 }, [true]);
    await expect.poll(() => lines.length, { timeout: 10_000 }).toBe(1);
    const before = services[0]!.probes;
    const stormStarted = performance.now();
    for (let i = 0; i < 100; i++) {
      watch.probeSoon();
      await new Promise((r) => setTimeout(r, 10));
    }
    const stormMs = performance.now() - stormStarted;
    // One round at most every 200 ms (the first may come at once).
    expect(services[0]!.probes - before).toBeLessThanOrEqual(Math.ceil(stormMs / 200) + 1);
    expect(services[0]!.probes - before).toBeGreaterThanOrEqual(2);
  });
});
