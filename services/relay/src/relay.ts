import type { JetStreamClient } from '@nats-io/jetstream';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Subjects } from '@fairlead/contracts';
import { traceCarrierOf, type Checkpoint, type EventStore, type StoredEvent, type Subscription } from '@fairlead/event-store';
import { publishDurable, tracePropagator, type TraceSpan } from '@fairlead/messaging';
import { CheckpointTable } from '@fairlead/projections';
import { toOutgoingMessage } from './envelope';

export interface RelayOptions {
  store: EventStore;
  pool: pg.Pool;
  js: JetStreamClient;
  subjects: Subjects;
  logger: Logger;
  /** Schema of the relay's checkpoint table. */
  schema?: string;
  /** Events published concurrently before their acks are awaited and the published position moves. */
  batchSize?: number;
  /** Least time between two checkpoint writes, in ms (default 100; 0 writes after every batch). */
  checkpointIntervalMs?: number;
  /**
   * Least time between two reads of the log once caught up, in ms (default 2): a busy store
   * commits hundreds of times a second, and one read answers the commits of that moment.
   */
  minReadIntervalMs?: number;
  /** Called with each batch once it is acknowledged (metrics); its checkpoint may be written later. */
  onPublished?: (events: readonly StoredEvent[]) => void;
  /** Called after each checkpoint write (metrics). */
  onCheckpointWritten?: (checkpoint: Checkpoint) => void;
}

export interface RelayStatus {
  /** Position of the last event published and acknowledged. */
  checkpoint: Checkpoint;
  /** Position as last written to the checkpoint table (behind `checkpoint` by at most one interval). */
  storedCheckpoint: Checkpoint;
  published: number;
  batches: number;
  /** Checkpoint writes since start. */
  checkpointWrites: number;
}

export interface RunningRelay {
  status(): RelayStatus;
  /** Stops reading, publishes what it has read, and stores the last position. */
  stop(): Promise<void>;
  /** Rejects when the relay failed (e.g. JetStream unreachable past the retry budget). */
  readonly done: Promise<void>;
}

const CHECKPOINT_NAME = 'relay';

/** Events published concurrently per batch unless configured otherwise. */
export const RELAY_DEFAULT_BATCH_SIZE = 500;

/** Least time between checkpoint writes unless configured otherwise. */
export const RELAY_DEFAULT_CHECKPOINT_INTERVAL_MS = 100;

/** Least time between reads of the log unless configured otherwise (adds at most this to a hop). */
export const RELAY_DEFAULT_MIN_READ_INTERVAL_MS = 2;

const publishSpan = (subject: string, event: StoredEvent): TraceSpan => ({
  name: `relay publish ${subject}`,
  kind: 'producer',
  attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.message.id': event.id, 'fairlead.event.type': event.type },
});

/** The checkpoint stored by the relay (START before its first batch): what a non-leader reports. */
export async function readRelayCheckpoint(pool: pg.Pool, schema = 'relay'): Promise<Checkpoint> {
  const checkpoints = new CheckpointTable(schema);
  await checkpoints.ensure(pool);
  return checkpoints.read(pool, CHECKPOINT_NAME);
}

const samePosition = (a: Checkpoint, b: Checkpoint) => a.transactionId === b.transactionId && a.globalPosition === b.globalPosition;

/**
 * Publishes every stored event to JetStream in global order, `msgID` = event id.
 * Run it only while holding leadership (leadership.ts).
 *
 * The checkpoint only ever names an acknowledged batch, and it is written at most once per
 * `checkpointIntervalMs` (a write per batch was several statements per lead), at the latest
 * one interval after the last batch, and always at stop (graceful shutdown, and leadership
 * lost, which main.ts turns into a shutdown). So a crash republishes the events of at most
 * the last interval plus the batch in flight. JetStream drops those repeats by msgID: the
 * streams' duplicate_window (fairleadStreams, 5 min by default) is thousands of times the
 * interval, so every event reaches the stream once, provided a relay resumes within that
 * window of the crash (main.ts refuses an interval that is not far shorter than it).
 */
export async function startRelay(options: RelayOptions): Promise<RunningRelay> {
  const { store, pool, js, subjects, logger } = options;
  const batchSize = options.batchSize ?? RELAY_DEFAULT_BATCH_SIZE;
  const intervalMs = options.checkpointIntervalMs ?? RELAY_DEFAULT_CHECKPOINT_INTERVAL_MS;
  if (!(intervalMs >= 0)) throw new RangeError(`checkpointIntervalMs must be ≥ 0, got ${intervalMs}`);
  const schema = options.schema ?? 'relay';
  const checkpoints = new CheckpointTable(schema);
  const start = await readRelayCheckpoint(pool, schema);
  const status: RelayStatus = { checkpoint: start, storedCheckpoint: start, published: 0, batches: 0, checkpointWrites: 0 };
  logger.info({ from: { transactionId: start.transactionId.toString(), globalPosition: start.globalPosition.toString() } }, 'relay starting');

  // The subscription fills a bounded queue; the publisher drains it a batch at a time.
  const queue: StoredEvent[] = [];
  let wakePublisher: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  let stopping = false;

  const subscription: Subscription = store.subscribe({
    from: start,
    batchSize,
    minReadIntervalMs: options.minReadIntervalMs ?? RELAY_DEFAULT_MIN_READ_INTERVAL_MS,
    handler: async (event) => {
      while (queue.length >= batchSize * 2 && !stopping) await new Promise<void>((r) => (wakeReader = r));
      queue.push(event);
      wakePublisher?.();
    },
  });

  const publishBatch = async (batch: StoredEvent[]) => {
    await Promise.all(
      batch.map((event) => {
        const message = toOutgoingMessage(subjects, event);
        const publish = () =>
          publishDurable(js, message.subject, message.payload, {
            msgID: message.msgID,
            headers: message.headers,
            expectStream: subjects.streams.events,
            logger,
          });
        // The writer's trace continues here: a publish span, child of the span that appended
        // the event, whose context publishDurable puts into the message headers.
        const carrier = traceCarrierOf(event.metadata);
        return carrier ? tracePropagator().withExtracted(carrier, publish, publishSpan(message.subject, event)) : publish();
      }),
    );
    const last = batch[batch.length - 1]!;
    status.checkpoint = { transactionId: last.transactionId, globalPosition: last.globalPosition };
    status.published += batch.length;
    status.batches += 1;
    options.onPublished?.(batch);
  };

  // Only the publisher loop writes the checkpoint, so writes never overtake one another.
  let lastWriteAt = Number.NEGATIVE_INFINITY;
  const unwritten = () => !samePosition(status.checkpoint, status.storedCheckpoint);
  const writeDueIn = () => lastWriteAt + intervalMs - performance.now();
  const writeCheckpoint = async () => {
    if (!unwritten()) return;
    const checkpoint = status.checkpoint;
    lastWriteAt = performance.now();
    await checkpoints.write(pool, CHECKPOINT_NAME, checkpoint);
    status.storedCheckpoint = checkpoint;
    status.checkpointWrites += 1;
    options.onCheckpointWritten?.(checkpoint);
  };

  let subscriptionEnded = false;
  void subscription.done.then(
    () => (subscriptionEnded = true),
    () => (subscriptionEnded = true),
  );

  const publisher = (async () => {
    for (;;) {
      while (queue.length === 0) {
        if (stopping || subscriptionEnded) {
          await writeCheckpoint();
          return;
        }
        // Woken by a new event, by the subscription ending (a rejection fails the relay), or
        // when a position published while idle is due to be written.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const due = unwritten() ? new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, writeDueIn())))) : undefined;
        try {
          await Promise.race([new Promise<void>((r) => (wakePublisher = r)), subscription.done, ...(due ? [due] : [])]);
        } finally {
          clearTimeout(timer);
          wakePublisher = undefined;
        }
        if (unwritten() && writeDueIn() <= 0) await writeCheckpoint();
      }
      const batch = queue.splice(0, batchSize);
      wakeReader?.();
      await publishBatch(batch);
      if (writeDueIn() <= 0) await writeCheckpoint();
    }
  })();

  const done = Promise.all([publisher, subscription.done]).then(() => undefined);
  done.catch((error: unknown) => logger.error({ err: error }, 'relay failed'));

  return {
    status: () => ({ ...status }),
    done,
    stop: async () => {
      stopping = true;
      wakeReader?.();
      await subscription.stop();
      wakePublisher?.();
      await publisher;
    },
  };
}
