/**
 * Tracing in a real service process (tsx, ESM): with OTEL_EXPORTER_OTLP_ENDPOINT set, the
 * rotation process exports its spans over OTLP/HTTP to a collector (a stand-in HTTP
 * server here) under its service name: a NATS request handler continuing the caller's
 * traceparent with its PostgreSQL queries beneath it, and an HTTP request span.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectsFor, type Subjects } from '@fairlead/contracts';
import { connectNats, drainAndClose, request } from '@fairlead/messaging';
import { createTestDatabase, startServiceProcess, testNamespace, testNatsUrl, waitFor, type ServiceProcess, type TestDatabase } from '@fairlead/testing';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: { stringValue?: string } }[];
}
interface ExportedSpan extends OtlpSpan {
  service: string | undefined;
}

let db: TestDatabase;
let nc: NatsConnection;
let subjects: Subjects;
let collector: Server;
let rotation: ServiceProcess;
const exported: ExportedSpan[] = [];
const paths: string[] = [];

beforeAll(async () => {
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      paths.push(req.url ?? '');
      const payload = JSON.parse(body || '{}') as {
        resourceSpans?: { resource?: { attributes?: OtlpSpan['attributes'] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
      };
      for (const rs of payload.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
        for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) exported.push({ ...span, service });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;

  db = await createTestDatabase('trace_process');
  subjects = subjectsFor(testNamespace('trace_process'));
  nc = await connectNats({ servers: testNatsUrl(), name: 'trace-process' });
  rotation = await startServiceProcess({
    service: 'rotation',
    env: {
      DATABASE_URL: db.url,
      NATS_URL: testNatsUrl(),
      NATS_NAMESPACE: subjects.namespace,
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // Export batches quickly, so the test waits milliseconds, not the default 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
});

afterAll(async () => {
  await rotation?.stop();
  if (nc) await drainAndClose(nc);
  await db?.drop();
  await new Promise<void>((resolve) => (collector ? collector.close(() => resolve()) : resolve()));
});

const traceparent = (traceId: string) => `00-${traceId}-${'a1'.repeat(8)}-01`;

describe('a service process with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('exports its handler, PostgreSQL and HTTP spans over OTLP, continuing the callers\' traces', async () => {
    const natsTrace = '0af7651916cd43dd8448eb211c80319c';
    const httpTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    await request(nc, subjects.command('rotation', 'create_niche'), { niche_id: 'traced', name: 'Traced' }, { headers: { traceparent: traceparent(natsTrace) } });
    const res = await fetch(`http://127.0.0.1:${rotation.port}/docs/json`, { headers: { traceparent: traceparent(httpTrace) } });
    expect(res.status).toBe(200);

    const handlerName = `handle ${subjects.command('rotation', 'create_niche')}`;
    const [handler, queries, http] = await waitFor(
      () => {
        const handler = exported.find((s) => s.traceId === natsTrace && s.name === handlerName);
        const queries = exported.filter((s) => s.traceId === natsTrace && s.attributes?.some((a) => a.key === 'db.system' || a.key === 'db.system.name'));
        const http = exported.find((s) => s.traceId === httpTrace);
        return handler && queries.length > 0 && http ? ([handler, queries, http] as const) : undefined;
      },
      { what: `the spans exported by rotation (received so far: ${exported.length})` },
    );
    expect(paths.every((p) => p === '/v1/traces')).toBe(true);
    expect(handler.service).toBe('rotation');
    expect(handler.parentSpanId).toBe('a1'.repeat(8));
    // Every query of the request ran under its handler (directly or through a span of its own).
    const inTrace = new Map(exported.filter((s) => s.traceId === natsTrace).map((s) => [s.spanId, s]));
    for (const q of queries) {
      let p = inTrace.get(q.parentSpanId ?? '');
      while (p && p !== handler) p = inTrace.get(p.parentSpanId ?? '');
      expect(p, `query span ${q.name} under the handler`).toBe(handler);
    }
    expect(http.parentSpanId).toBe('a1'.repeat(8));
    expect(http.kind).toBe(2); // SERVER
    expect(http.service).toBe('rotation');
    // Probes are left out: a traced request after the probe is exported, the probe is not.
    const probeTrace = '11111111111111111111111111111111';
    const laterTrace = '22222222222222222222222222222222';
    await fetch(`http://127.0.0.1:${rotation.port}/healthz`, { headers: { traceparent: traceparent(probeTrace) } });
    await fetch(`http://127.0.0.1:${rotation.port}/docs/json`, { headers: { traceparent: traceparent(laterTrace) } });
    await waitFor(() => exported.some((s) => s.traceId === laterTrace), { what: 'the span of the request after the probe' });
    expect(exported.filter((s) => s.traceId === probeTrace)).toEqual([]);
  });
});
