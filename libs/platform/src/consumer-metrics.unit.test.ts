import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerConsumerMetrics, type ConsumerSource } from './consumer-metrics';

const value = async (registry: Registry, name: string, labels: Record<string, string>) => {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
};

describe('consumer metrics', () => {
  it('reads positions at scrape time, reusing one reading per consumer within the cache period', async () => {
    let now = 0;
    let calls = 0;
    let pending = 5;
    const registry = new Registry();
    const runner: ConsumerSource = { durable: 'c', stats: () => ({ processed: 0, retried: 0, deadLettered: 0, malformed: 0, inFlight: 1, waiting: 2 }) };
    registerConsumerMetrics(registry, {
      consumers: () => [runner],
      position: async () => {
        calls++;
        return { num_pending: pending, num_ack_pending: 3 };
      },
      cacheMs: 1_000,
      now: () => now,
    });
    expect(await value(registry, 'consumer_lag_messages', { consumer: 'c' })).toBe(8);
    expect(await value(registry, 'consumer_pending_messages', { consumer: 'c' })).toBe(5);
    expect(await value(registry, 'consumer_in_flight_messages', { consumer: 'c' })).toBe(3);
    expect(calls).toBe(1);
    pending = 0;
    now = 999;
    expect(await value(registry, 'consumer_pending_messages', { consumer: 'c' })).toBe(5);
    now = 1_000;
    expect(await value(registry, 'consumer_pending_messages', { consumer: 'c' })).toBe(0);
    expect(calls).toBe(2);
  });

  it('leaves the lag out when the server cannot be asked, and turns runner counts into counters', async () => {
    const stats = { processed: 2, retried: 1, deadLettered: 0, malformed: 0, inFlight: 0, waiting: 0 };
    const registry = new Registry();
    registerConsumerMetrics(registry, {
      consumers: () => [{ durable: 'c', stats: () => stats }],
      position: () => Promise.reject(new Error('nats away')),
      cacheMs: 0,
    });
    expect(await value(registry, 'consumer_lag_messages', { consumer: 'c' })).toBeUndefined();
    expect(await value(registry, 'consumer_messages_total', { consumer: 'c', result: 'processed' })).toBe(2);
    stats.processed = 5;
    stats.deadLettered = 1;
    expect(await value(registry, 'consumer_messages_total', { consumer: 'c', result: 'processed' })).toBe(5);
    expect(await value(registry, 'consumer_messages_total', { consumer: 'c', result: 'dead_lettered' })).toBe(1);
    expect(await value(registry, 'consumer_dead_lettered', { consumer: 'c' })).toBe(1);
  });
});
