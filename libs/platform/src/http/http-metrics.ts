/**
 * HTTP series on a service's registry: requests answered by route and status, and their
 * latency. Routes are the registered patterns (`/v1/leads/:id`), so ids never become labels.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { HttpApp } from './app';

export function registerHttpMetrics(app: HttpApp, registry: Registry): void {
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by route and status', labelNames: ['method', 'route', 'status_code'], registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status_code: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}
