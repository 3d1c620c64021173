import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subjects } from '@fairlead/contracts';
import type { PostgresEventStore } from '@fairlead/event-store';
import { createHttpApp, createLogger, createMetricsRegistry, listen, registerMetricsRoute, type HttpApp } from '@fairlead/platform';
import { metricValue, scrapeMetrics, waitFor, type TestDatabase } from '@fairlead/testing';
import { createRelayMetrics, type RelayMetrics } from './metrics';
import { readRelayCheckpoint, startRelay, type RunningRelay } from './relay';
import { appendMany, openRelayTestEnvironment, streamMessageCount, type RelayTestEnvironment } from './test-support';

const logger = createLogger({ service: 'relay-metrics-test', level: 'warn' });

describe('relay metrics', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let subjects: Subjects;
  let env: RelayTestEnvironment;
  let app: HttpApp;
  let base: string;
  let relay: RunningRelay | undefined;
  let leading = false;
  let metrics: RelayMetrics;

  beforeAll(async () => {
    env = await openRelayTestEnvironment('relay_metrics');
    ({ db, store, nc, jsm, subjects } = env);
    app = await createHttpApp({ logger, serviceName: 'relay', openapi: { title: 'relay', version: '1' } });
    const registry = createMetricsRegistry('relay', { defaultMetrics: false });
    registerMetricsRoute(app, registry);
    metrics = createRelayMetrics(registry, { relay: () => relay, storedCheckpoint: () => readRelayCheckpoint(db.pool), leader: () => leading, pool: db.pool, schema: store.schema, cacheMs: 0 });
    base = await listen(app, { host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await relay?.stop();
    await app.close();
    await env.close();
  });

  it('counts published events by category, and the events behind the checkpoint', async () => {
    let text = await scrapeMetrics(base);
    expect(metricValue(text, 'relay_leader')).toBe(0);
    expect(metricValue(text, 'relay_checkpoint_lag_events')).toBe(0);

    const orders = await appendMany(store, { streams: 3, perStream: 20, category: 'order' });
    const items = await appendMany(store, { streams: 1, perStream: 15, category: 'item' });
    text = await scrapeMetrics(base);
    expect(metricValue(text, 'relay_checkpoint_lag_events'), 'a relay that does not lead reports the lag from the stored checkpoint').toBe(75);
    leading = true;
    relay = await startRelay({ store, pool: db.pool, js: jetstream(nc), subjects, logger, batchSize: 25, onPublished: metrics.onPublished, onCheckpointWritten: metrics.onCheckpointWritten, onPage: metrics.onPage });
    const total = orders.length + items.length;
    await waitFor(async () => relay!.status().published === total, { what: `${total} events published` });
    expect(await streamMessageCount(jsm, subjects.streams.events)).toBe(total);

    text = await scrapeMetrics(base);
    expect(metricValue(text, 'relay_leader')).toBe(1);
    expect(metricValue(text, 'relay_events_published_total', { category: 'order' })).toBe(60);
    expect(metricValue(text, 'relay_events_published_total', { category: 'item' })).toBe(15);
    expect(metricValue(text, 'relay_batches_total')).toBe(relay.status().batches);
    // Batches of 25: the first goes event by event (it learns the stream's sequence), the rest with one ack each.
    expect(relay.status().pagesWithOneAck).toBeGreaterThan(0);
    expect(metricValue(text, 'relay_pages_total', { confirmed: 'one_ack' })).toBe(relay.status().pagesWithOneAck);
    expect(metricValue(text, 'relay_pages_total', { confirmed: 'fallback' })).toBe(relay.status().pageFallbacks);
    expect(metricValue(text, 'relay_checkpoint_lag_events')).toBe(0);
    expect(metricValue(text, 'relay_checkpoint_position')).toBe(Number(relay.status().checkpoint.globalPosition));

    // Stopped, the relay has stored its last position (every write counted) and falls
    // behind by exactly what is appended meanwhile.
    const running = relay;
    await running.stop();
    relay = undefined;
    expect(metricValue(await scrapeMetrics(base), 'relay_checkpoint_writes_total')).toBe(running.status().checkpointWrites);
    expect(running.status().storedCheckpoint).toEqual(running.status().checkpoint);
    leading = false;
    await appendMany(store, { streams: 1, perStream: 7, category: 'order' });
    text = await scrapeMetrics(base);
    expect(metricValue(text, 'relay_checkpoint_lag_events')).toBe(7);
    expect(metricValue(text, 'relay_events_published_total', { category: 'order' })).toBe(60);
  });
});
