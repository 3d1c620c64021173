/**
 * The series every service with durable consumers exports, read when scraped:
 * how far each consumer is behind (the server's num_pending / num_ack_pending, cached
 * briefly so a busy scraper costs one info call per consumer per period) and what its
 * runner did (processed, retried, dead-lettered, malformed) since the process started.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** What the runner of one durable consumer reports (libs/messaging's ConsumerRunner fits). */
export interface ConsumerSource {
  readonly durable: string;
  stats(): { processed: number; retried: number; deadLettered: number; malformed: number; inFlight: number; waiting: number };
}

/** The server's view of a durable consumer (JetStream's ConsumerInfo fits). */
export interface ConsumerPosition {
  num_pending: number;
  num_ack_pending: number;
}

export interface ConsumerMetricsOptions {
  /** The consumers of this process (read at every scrape: runners may start later). */
  consumers: () => readonly ConsumerSource[];
  /** Reads one consumer's position from the server, e.g. `(d) => jsm.consumers.info(stream, d)`. */
  position: (durable: string) => Promise<ConsumerPosition>;
  /** How long a position reading is reused (default 2000 ms). */
  cacheMs?: number;
  /** The clock, for tests of the cache. */
  now?: () => number;
}

const RESULTS = ['processed', 'retried', 'dead_lettered', 'malformed'] as const;

export function registerConsumerMetrics(registry: Registry, options: ConsumerMetricsOptions): void {
  const registers = [registry];
  const cacheMs = options.cacheMs ?? 2_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; value: Promise<ConsumerPosition | undefined> }>();

  const position = (durable: string): Promise<ConsumerPosition | undefined> => {
    const cached = cache.get(durable);
    if (cached && now() - cached.at < cacheMs) return cached.value;
    // Unknown (NATS away, consumer gone): the series is left out rather than a false zero.
    const value = options.position(durable).catch(() => undefined);
    cache.set(durable, { at: now(), value });
    return value;
  };
  const readPositions = async () =>
    Promise.all(options.consumers().map(async (c) => ({ consumer: c.durable, position: await position(c.durable) })));

  new Gauge({
    name: 'consumer_lag_messages',
    help: 'Messages of the durable consumer not yet acknowledged: waiting on the server (num_pending) plus delivered and in hand (num_ack_pending).',
    labelNames: ['consumer'],
    registers,
    async collect() {
      this.reset();
      for (const { consumer, position: p } of await readPositions()) if (p) this.set({ consumer }, p.num_pending + p.num_ack_pending);
    },
  });
  new Gauge({
    name: 'consumer_pending_messages',
    help: 'Messages of the durable consumer not yet delivered to any instance (num_pending).',
    labelNames: ['consumer'],
    registers,
    async collect() {
      this.reset();
      for (const { consumer, position: p } of await readPositions()) if (p) this.set({ consumer }, p.num_pending);
    },
  });
  new Gauge({
    name: 'consumer_dead_lettered',
    help: 'Messages this process sent to the dead-letter stream since it started (malformed ones included).',
    labelNames: ['consumer'],
    registers,
    collect() {
      for (const c of options.consumers()) this.set({ consumer: c.durable }, c.stats().deadLettered);
    },
  });
  new Gauge({
    name: 'consumer_in_flight_messages',
    help: 'Messages this process holds: handlers running plus those waiting for a slot or their key.',
    labelNames: ['consumer'],
    registers,
    collect() {
      for (const c of options.consumers()) {
        const s = c.stats();
        this.set({ consumer: c.durable }, s.inFlight + s.waiting);
      }
    },
  });
  // Counters follow the runner's own counts: each scrape adds what happened since the last.
  const seen = new Map<string, Record<(typeof RESULTS)[number], number>>();
  new Counter({
    name: 'consumer_messages_total',
    help: 'Messages handled by this process, by result (processed, retried, dead_lettered, malformed).',
    labelNames: ['consumer', 'result'],
    registers,
    collect() {
      for (const c of options.consumers()) {
        const s = c.stats();
        const current = { processed: s.processed, retried: s.retried, dead_lettered: s.deadLettered, malformed: s.malformed };
        const last = seen.get(c.durable) ?? { processed: 0, retried: 0, dead_lettered: 0, malformed: 0 };
        for (const result of RESULTS) this.inc({ consumer: c.durable, result }, Math.max(0, current[result] - last[result]));
        seen.set(c.durable, current);
      }
    },
  });
}
