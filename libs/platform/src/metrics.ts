/**
 * Prometheus metrics: one registry per service, served at `GET /metrics` in the text
 * exposition format. Services add their own counters and histograms to the registry.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { HttpApp } from './http/app';

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
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}

/** Serves the registry at `GET /metrics` (hidden from the OpenAPI document). */
export function registerMetricsRoute(app: HttpApp, registry: Registry): void {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}
