/**
 * The relay's Prometheus series: events published (by stream category), batches, checkpoint
 * writes, whether this instance leads, its checkpoint, and how many committed events it has
 * yet to publish (counted at scrape from the store's (transaction_id, global_position)
 * index, capped). While leading, the checkpoint gauges follow what is published; the stored
 * checkpoint trails it by at most the checkpoint interval.
 */
import type pg from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import { categoryOf, quoteIdentifier, type Checkpoint, type StoredEvent } from '@fairlead/event-store';
import type { RunningRelay } from './relay';

export interface RelayMetricsSources {
  /** The running relay, once this instance leads. */
  relay: () => RunningRelay | undefined;
  /** The checkpoint as stored (readRelayCheckpoint), read while this instance does not lead. */
  storedCheckpoint: () => Promise<Checkpoint>;
  leader: () => boolean;
  pool: pg.Pool;
  /** Schema of the event store's tables. */
  schema: string;
  /** Most events counted behind the checkpoint (default 100 000; the count stops there). */
  lagCap?: number;
  /** How long a lag reading is reused (default 2000 ms). */
  cacheMs?: number;
}

export interface RelayMetrics {
  /** For startRelay's onPublished. */
  onPublished(events: readonly StoredEvent[]): void;
  /** For startRelay's onCheckpointWritten. */
  onCheckpointWritten(): void;
  /** For startRelay's onPage (RELAY_ACK_PER_PAGE). */
  onPage(confirmed: 'one_ack' | 'fallback'): void;
}

/** Events committed after `from` (at most `cap`): what the relay has not published yet. */
export async function eventsAfter(pool: pg.Pool, schema: string, from: Checkpoint, cap: number): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `select count(*)::int as n from (
       select 1 from ${quoteIdentifier(schema)}.events
       where (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
       limit $3) behind`,
    [from.transactionId.toString(), from.globalPosition.toString(), cap],
  );
  return rows[0]?.n ?? 0;
}

export function createRelayMetrics(registry: Registry, sources: RelayMetricsSources): RelayMetrics {
  const registers = [registry];
  const cap = sources.lagCap ?? 100_000;
  const cacheMs = sources.cacheMs ?? 2_000;
  const published = new Counter({ name: 'relay_events_published_total', help: 'Events published to JetStream and acknowledged, by stream category.', labelNames: ['category'], registers });
  const batches = new Counter({ name: 'relay_batches_total', help: 'Batches published and acknowledged.', registers });
  const checkpointWrites = new Counter({ name: 'relay_checkpoint_writes_total', help: 'Checkpoint writes (at most one per checkpoint interval, plus one at stop).', registers });
  new Gauge({
    name: 'relay_leader',
    help: '1 while this instance holds the relay lock and publishes, else 0.',
    registers,
    collect() {
      this.set(sources.leader() ? 1 : 0);
    },
  });
  const pages = new Counter({
    name: 'relay_pages_total',
    help: 'Pages of more than one event published while leading, by how JetStream confirmed them: one ack for the page (one_ack), or event by event after a doubt (fallback).',
    labelNames: ['confirmed'],
    registers,
  });
  // Both series from the start (0 until a page of their kind), so a rate or an alert on fallbacks has a series to read.
  for (const confirmed of ['one_ack', 'fallback'] as const) pages.inc({ confirmed }, 0);
  // One checkpoint reading per scrape serves both gauges; NaN when it cannot be read.
  let reading: { at: number; value: Promise<{ position: number; behind: number }> } | undefined;
  const read = (): Promise<{ position: number; behind: number }> => {
    if (reading && Date.now() - reading.at < cacheMs) return reading.value;
    const value = (async () => {
      const checkpoint = sources.relay()?.status().checkpoint ?? (await sources.storedCheckpoint());
      return { position: Number(checkpoint.globalPosition), behind: await eventsAfter(sources.pool, sources.schema, checkpoint, cap) };
    })().catch(() => ({ position: Number.NaN, behind: Number.NaN }));
    reading = { at: Date.now(), value };
    return value;
  };
  new Gauge({
    name: 'relay_checkpoint_position',
    help: 'Global position of the last event published (the stored checkpoint while this instance does not lead).',
    registers,
    async collect() {
      this.set((await read()).position);
    },
  });
  new Gauge({
    name: 'relay_checkpoint_lag_events',
    help: `Committed events after the relay's checkpoint, not yet published (counted up to ${cap}).`,
    registers,
    async collect() {
      this.set((await read()).behind);
    },
  });
  return {
    onCheckpointWritten: () => checkpointWrites.inc(),
    onPage: (confirmed) => pages.inc({ confirmed }),
    onPublished: (events) => {
      batches.inc();
      const byCategory = new Map<string, number>();
      for (const e of events) byCategory.set(categoryOf(e.stream), (byCategory.get(categoryOf(e.stream)) ?? 0) + 1);
      for (const [category, n] of byCategory) published.inc({ category }, n);
    },
  };
}
