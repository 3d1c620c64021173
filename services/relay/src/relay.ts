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
  /** Events published concurrently before their acks are awaited and the checkpoint moves. */
  batchSize?: number;
  /** Called with each batch once it is acknowledged and checkpointed (metrics). */
  onPublished?: (events: readonly StoredEvent[]) => void;
}

export interface RelayStatus {
  checkpoint: Checkpoint;
  published: number;
  batches: number;
}

export interface RunningRelay {
  status(): RelayStatus;
  /** Stops reading, finishes the batch in flight, stores its checkpoint. */
  stop(): Promise<void>;
  /** Rejects when the relay failed (e.g. JetStream unreachable past the retry budget). */
  readonly done: Promise<void>;
}

const CHECKPOINT_NAME = 'relay';

/** Events published concurrently per batch unless configured otherwise. */
export const RELAY_DEFAULT_BATCH_SIZE = 500;

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

/**
 * Publishes every stored event to JetStream in global order, `msgID` = event id.
 * The checkpoint moves only after a whole batch is acknowledged, so a crash republishes
 * at most one batch, and JetStream's duplicate window drops those repeats: every event
 * reaches the stream exactly once. Run it only while holding leadership (leadership.ts).
 */
export async function startRelay(options: RelayOptions): Promise<RunningRelay> {
  const { store, pool, js, subjects, logger } = options;
  const batchSize = options.batchSize ?? RELAY_DEFAULT_BATCH_SIZE;
  const schema = options.schema ?? 'relay';
  const checkpoints = new CheckpointTable(schema);
  const start = await readRelayCheckpoint(pool, schema);
  const status: RelayStatus = { checkpoint: start, published: 0, batches: 0 };
  logger.info({ from: { transactionId: start.transactionId.toString(), globalPosition: start.globalPosition.toString() } }, 'relay starting');

  // The subscription fills a bounded queue; the publisher drains it a batch at a time.
  const queue: StoredEvent[] = [];
  let wakePublisher: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  let stopping = false;

  const subscription: Subscription = store.subscribe({
    from: start,
    batchSize,
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
    const checkpoint = { transactionId: last.transactionId, globalPosition: last.globalPosition };
    await checkpoints.write(pool, CHECKPOINT_NAME, checkpoint);
    status.checkpoint = checkpoint;
    status.published += batch.length;
    status.batches += 1;
    options.onPublished?.(batch);
  };

  let subscriptionEnded = false;
  void subscription.done.then(
    () => (subscriptionEnded = true),
    () => (subscriptionEnded = true),
  );

  const publisher = (async () => {
    for (;;) {
      while (queue.length === 0) {
        if (stopping || subscriptionEnded) return;
        // Woken by a new event, or by the subscription ending (a rejection fails the relay).
        await Promise.race([new Promise<void>((r) => (wakePublisher = r)), subscription.done]);
        wakePublisher = undefined;
      }
      const batch = queue.splice(0, batchSize);
      wakeReader?.();
      await publishBatch(batch);
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
