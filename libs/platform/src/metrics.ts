/**
 * Prometheus metrics: one registry per service, served at `GET /metrics` in the text
 * exposition format. Services add their own counters and histograms to the registry.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { HttpApp } from './http/app';

/**
 * How often the event-loop delay histogram (`nodejs_eventloop_lag_p99_seconds` …) samples:
 * a libuv timer that wakes the process each period, busy or idle. prom-client's 10 ms woke
 * every idle service 100 times a second (benchmarks/README.md, "idle"); at 100 ms a stall
 * longer than the period is still always seen, a shorter one in proportion to its length.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

export interface MetricsRegistryOptions {
  /** Collect the process metrics (CPU, memory, event loop lag, GC); default true. */
  defaultMetrics?: boolean;
}

/**
 * A registry whose every series carries `service="<name>"`. Its own registry, not
 * prom-client's global one, so several services started in one test process don't
 * collide on metric names.
 */
export function createMetricsRegistry(service: string, options: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return registry;
}

/** Serves the registry at `GET /metrics` (hidden from the OpenAPI document). */
export function registerMetricsRoute(app: HttpApp, registry: Registry): void {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}
