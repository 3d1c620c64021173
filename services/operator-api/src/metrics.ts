/**
 * The operator API's Prometheus series, on the platform's registry: HTTP requests by
 * route and status with their latency, how far each read model has applied the log,
 * and how many messages wait in the dead-letter queue (read from JetStream at scrape).
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { HttpApp } from '@fairlead/platform';
import type { RunningProjector } from '@fairlead/projections';

export function registerApiMetrics(
  app: HttpApp,
  registry: Registry,
  sources: { projectors: () => readonly RunningProjector[]; jsm: JetStreamManager; deadLetterStream: string },
): void {
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by route and status', labelNames: ['method', 'route', 'status_code'], registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'operator_projection_position',
    help: 'Global position of the last event each read model applied',
    labelNames: ['projection'],
    registers: [registry],
    collect() {
      for (const p of sources.projectors()) this.set({ projection: p.name }, Number(p.position().globalPosition));
    },
  });
  new Gauge({
    name: 'fairlead_dead_letters',
    help: 'Messages waiting in the dead-letter queue',
    labelNames: ['stream'],
    registers: [registry],
    async collect() {
      try {
        const info = await sources.jsm.streams.info(sources.deadLetterStream);
        this.set({ stream: sources.deadLetterStream }, info.state.messages);
      } catch {
        // No stream yet (or NATS away): leave the series out rather than report a false zero.
        this.reset();
      }
    },
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status_code: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}
