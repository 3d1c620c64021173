import type { NatsConnection } from '@nats-io/nats-core';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createPostgresEventStore, traceCarrierOf, type PostgresEventStore } from '@fairlead/event-store';
import { request, serveRequests, type RequestServer } from '@fairlead/messaging';
import { createTestDatabase, testNamespace, testNatsConnection, type TestDatabase } from '@fairlead/testing';
import { createHttpApp, listen, type HttpApp } from '../http/app';
import { createLogger } from '../logger';
import { withSpan } from './spans';
import { startTelemetry, tracingRequested, type Telemetry } from './telemetry';

const exporter = new InMemorySpanExporter();
const spans = () => exporter.getFinishedSpans();
const traceOf = (span: ReadableSpan) => span.spanContext().traceId;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('telemetry (in-memory exporter)', () => {
  let telemetry: Telemetry;
  let db: TestDatabase;
  let store: PostgresEventStore;
  let nc: NatsConnection;
  let server: RequestServer;
  let app: HttpApp;
  let base: string;
  const subject = `${testNamespace('telemetry')}.cmd.echo`;

  beforeAll(async () => {
    // pg is already loaded (by @fairlead/testing) when telemetry starts: the patch must land anyway.
    telemetry = await startTelemetry({ serviceName: 'telemetry-test', exporter, env: {} });
    db = await createTestDatabase('telemetry');
    db.pool.on('error', () => undefined);
    store = createPostgresEventStore({ pool: db.pool });
    await store.migrate();
    nc = await testNatsConnection({ identity: 'admin' });
    server = serveRequests(nc, subject, {
      requestSchema: z.object({ n: z.number() }),
      handler: async ({ n }) => {
        await db.pool.query('select $1::int as n', [n]);
        return { n };
      },
    });
    app = await createHttpApp({ logger: createLogger({ service: 'telemetry-test', level: 'silent' }), serviceName: 'telemetry-test', openapi: { title: 't', version: '1' } });
    app.get('/work', async () => (await db.pool.query<{ one: number }>('select 1 as one')).rows[0]);
    base = await listen(app, { host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await app?.close();
    await server?.stop();
    await nc?.close();
    await store?.close();
    await db?.drop();
    await telemetry?.shutdown();
  });

  it('is on with an exporter, and a second start returns the same handle', async () => {
    expect(telemetry.enabled).toBe(true);
    expect(await startTelemetry({ serviceName: 'other' })).toBe(telemetry);
  });

  it('carries the context over a NATS request: the handler span and its query are children of the caller', async () => {
    exporter.reset();
    let rootTrace = '';
    let rootSpan = '';
    await withSpan('caller', async () => {
      const { trace } = await import('@opentelemetry/api');
      rootTrace = trace.getActiveSpan()!.spanContext().traceId;
      rootSpan = trace.getActiveSpan()!.spanContext().spanId;
      expect(await request(nc, subject, { n: 7 })).toEqual({ n: 7 });
    });
    const handler = spans().find((s) => s.name === `handle ${subject}`);
    expect(handler, 'a server span for the request handler').toBeDefined();
    expect(traceOf(handler!)).toBe(rootTrace);
    expect(parentOf(handler!)).toBe(rootSpan);
    const query = spans().find((s) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql');
    expect(query, 'a PostgreSQL span for the handler query').toBeDefined();
    expect(traceOf(query!)).toBe(rootTrace);
    expect(parentOf(query!)).toBe(handler!.spanContext().spanId);
  });

  it('writes the active trace context into the metadata of appended events', async () => {
    let traceId = '';
    await withSpan('writer', async () => {
      const { trace } = await import('@opentelemetry/api');
      traceId = trace.getActiveSpan()!.spanContext().traceId;
      await store.append('order-1', [{ id: 'e1', type: 'OrderPlaced', data: {}, metadata: { actor: 'test' } }], 'no_stream');
    });
    await store.append('order-2', [{ id: 'e2', type: 'OrderPlaced', data: {} }], 'no_stream');
    const [traced] = await store.readStream('order-1');
    const [untraced] = await store.readStream('order-2');
    expect(traced!.metadata.actor).toBe('test');
    expect(traceCarrierOf(traced!.metadata)?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(traceCarrierOf(untraced!.metadata)).toBeUndefined();
  });

  it('traces incoming HTTP requests (continuing a traceparent) with their queries, but not probes', async () => {
    exporter.reset();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${base}/work`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(res.status).toBe(200);
    await fetch(`${base}/healthz`);
    const http = spans().filter((s) => s.attributes['http.route'] !== undefined || String(s.name).startsWith('GET'));
    expect(http).toHaveLength(1);
    expect(traceOf(http[0]!)).toBe(traceId);
    expect(parentOf(http[0]!)).toBe('00f067aa0ba902b7');
    const query = spans().find((s) => String(s.attributes['db.statement'] ?? s.attributes['db.query.text'] ?? '').includes('select 1'));
    expect(query && traceOf(query)).toBe(traceId);
  });
});

describe('tracingRequested', () => {
  it('is off by default and on with an OTLP endpoint or a traces exporter', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' })).toBe(false);
  });
});
