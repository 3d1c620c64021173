import { JetStreamClientImpl } from '@nats-io/jetstream/internal';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Subjects } from '@fairlead/contracts';
import type { ReaderStatus } from '@fairlead/contracts';
import { traceCarrierOf, type Checkpoint, type EventStore, type StoredEvent, type Subscription } from '@fairlead/event-store';
import { isTransient, outgoingHeaders, publishDurable, tracePropagator, type TraceSpan } from '@fairlead/messaging';
import { CheckpointTable, isTransientDbError } from '@fairlead/projections';
import { encodeOutgoing, type EncodedMessage } from './envelope';
import { RelayControl } from './stall';

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
  /** Called for each page of more than one event published with ackPerPage: confirmed by its one ack, or published again event by event. */
  onPage?: (confirmed: 'one_ack' | 'fallback') => void;
  /**
   * The bus's largest message now (the server's max_payload, e.g. `() => nc.info?.max_payload`):
   * an event whose message would be larger stalls the relay instead of failing it.
   */
  maxPayloadBytes?: () => number | undefined;
  /** While stalled, how often the control stream is read for an operator's decision (default 1000 ms). */
  controlPollMs?: number;
  /**
   * One JetStream ack per page (default true): a page's events but the last go as core
   * publishes on `js`'s connection, the last one as an acked publish; see publishPage.
   * False: one acked publish per event (as before).
   */
  ackPerPage?: boolean;
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
  /** Events skipped because an operator parked them, since start. */
  skippedParked: number;
  /** Pages published with one ack (ackPerPage), since start. */
  pagesWithOneAck: number;
  /** Pages whose one ack left a doubt and that were published again event by event, since start. */
  pageFallbacks: number;
}

export interface RunningRelay {
  status(): RelayStatus;
  /** As a reader of the log: running, or stalled on an event it cannot publish (/readyz, metrics, the operator API). */
  reader(): ReaderStatus;
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

/** The connection a JetStream client publishes on (nats.js keeps it): the core publishes of a page must share it with the acked one. */
function connectionOf(js: JetStreamClient): NatsConnection | undefined {
  return js instanceof JetStreamClientImpl ? js.nc : undefined;
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
  const status: RelayStatus = { checkpoint: start, storedCheckpoint: start, published: 0, batches: 0, checkpointWrites: 0, skippedParked: 0, pagesWithOneAck: 0, pageFallbacks: 0 };
  const pageConnection = (options.ackPerPage ?? true) ? connectionOf(js) : undefined;
  const eventsStream = subjects.streams.events;
  // The events stream's last sequence as of the relay's last ack that stored a message
  // (duplicate: false); undefined at start and after any doubt, until an event-by-event
  // publish tells it again.
  let lastSeq: number | undefined;
  const control = new RelayControl(store, logger, options.controlPollMs ?? 1_000);
  await control.load();
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
    // A page at once: the publisher, woken once, sends the page's events as one pipelined
    // batch. Event by event, it woke at the first event of a page and published it alone,
    // then the rest as a second batch (two writes and two rounds of acks per append).
    pageHandler: async (events) => {
      while (queue.length + events.length > batchSize * 2 && !stopping) await new Promise<void>((r) => (wakeReader = r));
      queue.push(...events);
      wakePublisher?.();
    },
  });

  // The writer's trace continues here: a publish span, child of the span that appended the
  // event, whose context goes into the message headers (publishDurable's inject, or ours).
  const traced = <T>(event: StoredEvent, subject: string, publish: () => Promise<T>): Promise<T> => {
    const carrier = traceCarrierOf(event.metadata);
    return carrier ? tracePropagator().withExtracted(carrier, publish, publishSpan(subject, event)) : publish();
  };

  const publishOne = (event: StoredEvent, message: EncodedMessage) =>
    traced(event, message.subject, () =>
      publishDurable(js, message.subject, message.data, {
        msgID: message.msgID,
        headers: message.headers,
        expectStream: eventsStream,
        logger,
      }),
    );

  /**
   * One ack for a page of events (nats-server 2.9 has no atomic batch publish): every
   * event but the last goes as a core publish (no reply subject) on the connection the
   * JetStream client uses, with the headers an acked publish carries (Nats-Msg-Id = event
   * id, Nats-Expected-Stream, trace context); the last one goes as an acked publish. Returns
   * that ack when the page is proven stored, each event once and in order; undefined on any
   * doubt (the caller then publishes the page again event by event, which msgID dedup makes
   * harmless: what did land is answered as a duplicate).
   *
   * Why the one ack proves the whole page:
   * - NATS delivers a connection's messages in order, and a stream stores what it accepts
   *   in the order it receives it (in a cluster: in the order its leader proposes it, and
   *   the ack comes once the replicas stored it), so the acked last message was handled
   *   after every message before it.
   * - A chain: message i > 0 carries Nats-Expected-Last-Msg-Id = message i-1's id, so the
   *   stream takes it only if the message it stored last is message i-1. A message the
   *   server refuses silently (the stream's max_msg_size, a limit), drops as a duplicate or
   *   loses (a reconnect), or a foreign one stored in between (a redrive, another
   *   publisher), breaks the chain: every later message of the page is refused, the last
   *   one with an error. So an ack of the last one means messages 0…n-1 were stored
   *   consecutively, none of them earlier (the server checks duplicates first).
   * - Sequence arithmetic on top, a check of its own: the ack must say `duplicate: false`
   *   and `seq` = the stream's last sequence after the relay's previous ack + n. It is what
   *   a page without the chain would rest on; alone it would be fooled by a refused message
   *   and a foreign one making up for it, which the chain catches.
   * The last publish is tried once (no retries: a retry could be answered as a duplicate);
   * a timeout, an error or a failed check are a doubt, never a loss.
   */
  const publishPage = async (page: readonly { event: StoredEvent; message: EncodedMessage }[], nc: NatsConnection, previousSeq: number): Promise<PubAck | undefined> => {
    const last = page.length - 1;
    try {
      // Run in order, without a pause: each send is synchronous (withExtracted runs its
      // function at once), and the acked publish writes its request before its first await.
      const sends = page.slice(0, last).map(({ event, message }, i) =>
        traced(event, message.subject, async () => {
          const h = outgoingHeaders(message.headers);
          h.set('Nats-Msg-Id', message.msgID);
          h.set('Nats-Expected-Stream', eventsStream);
          if (i > 0) h.set('Nats-Expected-Last-Msg-Id', page[i - 1]!.message.msgID);
          nc.publish(message.subject, message.data, { headers: h });
        }),
      );
      const { event, message } = page[last]!;
      const acked = traced(event, message.subject, () => {
        return js.publish(message.subject, message.data, {
          msgID: message.msgID,
          headers: outgoingHeaders(message.headers),
          timeout: 5_000,
          expect: { streamName: eventsStream, lastMsgID: page[last - 1]!.message.msgID },
        });
      });
      // Settled all before looking: no rejection is left unheard.
      const settled = await Promise.allSettled([...sends, acked]);
      const refused = settled.find((r) => r.status === 'rejected');
      if (refused) throw refused.reason;
      const ack = await acked;
      if (!ack.duplicate && ack.stream === eventsStream && ack.seq === previousSeq + page.length) return ack;
      logger.info({ seq: ack.seq, expected: previousSeq + page.length, duplicate: ack.duplicate }, 'relay page ack does not add up; publishing the page event by event');
    } catch (error) {
      logger.info({ err: error }, 'relay page not acknowledged whole; publishing the page event by event');
    }
    return undefined;
  };

  const advance = (events: readonly StoredEvent[]) => {
    const last = events[events.length - 1]!;
    status.checkpoint = { transactionId: last.transactionId, globalPosition: last.globalPosition };
  };

  /**
   * Publishes the batch up to the first event it cannot publish; returns how many events
   * of the batch are done (published or parked) and, when it stopped early, why.
   */
  const publishBatch = async (batch: readonly StoredEvent[]): Promise<{ done: number; failure?: unknown }> => {
    // Encoded first: an event that cannot go on the bus is found before anything after it is sent.
    const ready: { event: StoredEvent; message: EncodedMessage | undefined }[] = [];
    let failure: unknown;
    for (const event of batch) {
      if (control.isParked(event.id)) {
        ready.push({ event, message: undefined });
        continue;
      }
      try {
        ready.push({ event, message: encodeOutgoing(subjects, event, options.maxPayloadBytes?.()) });
      } catch (error) {
        failure = error;
        break;
      }
    }
    const toSend = ready.filter((r): r is { event: StoredEvent; message: EncodedMessage } => r.message !== undefined);
    let results: PromiseSettledResult<PubAck | undefined>[] | undefined;
    if (pageConnection && lastSeq !== undefined && toSend.length > 1) {
      const ack = await publishPage(toSend, pageConnection, lastSeq);
      if (ack) {
        status.pagesWithOneAck += 1;
        lastSeq = ack.seq;
        results = ready.map(() => ({ status: 'fulfilled', value: undefined }));
      } else status.pageFallbacks += 1;
      options.onPage?.(ack ? 'one_ack' : 'fallback');
    }
    if (!results) {
      // Event by event, one ack each: the first page, and any page after a doubt.
      results = await Promise.allSettled(ready.map(({ event, message }) => (message ? publishOne(event, message) : Promise.resolve(undefined))));
      // The last event's ack tells the stream's last sequence again if it stored the message
      // (a duplicate's seq is where the first copy went); a failure leaves it unknown, and a
      // page of parked events only leaves it as it was.
      const acks = results.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
      const lastAck = acks[acks.length - 1];
      if (results.some((r) => r.status === 'rejected')) lastSeq = undefined;
      else if (lastAck) lastSeq = lastAck.duplicate ? undefined : lastAck.seq;
    }
    let done = results.findIndex((r) => r.status === 'rejected');
    if (done === -1) done = ready.length;
    else {
      const error = (results[done] as PromiseRejectedResult).reason as Error;
      // The bus away past the retry budget fails the relay (a supervisor restarts it); a refusal of this one event stalls it.
      if (isTransient(error.cause ?? error)) throw error;
      failure = error;
    }
    const handled = ready.slice(0, done);
    if (handled.length > 0) {
      advance(handled.map((r) => r.event));
      const published = handled.filter((r) => r.message).map((r) => r.event);
      status.skippedParked += handled.length - published.length;
      status.published += published.length;
      status.batches += 1;
      if (published.length > 0) options.onPublished?.(published);
    }
    return { done, ...(failure === undefined ? {} : { failure }) };
  };

  /** Waits for an operator's decision on the event the relay cannot publish; true when it was parked (skip it). */
  const stallOn = async (event: StoredEvent, error: unknown): Promise<boolean> => {
    control.stall(event, error);
    // What was published before it is stored now: a restart meets the same event first.
    await writeCheckpoint();
    const decision = await control.waitForDecision(() => stopping);
    if (decision !== 'parked') return false;
    advance([event]);
    status.skippedParked += 1;
    return true;
  };

  // Only the publisher loop writes the checkpoint, so writes never overtake one another.
  let lastWriteAt = Number.NEGATIVE_INFINITY;
  // After a failed write the next one waits longer (1 s, doubling up to 30 s), so a database away
  // for a while costs a warning and a few attempts, not one every interval.
  let failedWrites = 0;
  const retryDelayMs = () => (failedWrites === 0 ? intervalMs : Math.max(intervalMs, Math.min(30_000, 1_000 * 2 ** (failedWrites - 1))));
  const unwritten = () => !samePosition(status.checkpoint, status.storedCheckpoint);
  const writeDueIn = () => lastWriteAt + retryDelayMs() - performance.now();
  const writeCheckpoint = async () => {
    if (!unwritten()) return;
    const checkpoint = status.checkpoint;
    lastWriteAt = performance.now();
    try {
      await checkpoints.write(pool, CHECKPOINT_NAME, checkpoint);
    } catch (error) {
      // A connection PostgreSQL ended (a restart, an administrator) or a server away for a while:
      // the write is tried again after retryDelayMs, and meanwhile a restart would only republish
      // what msgID dedup drops. Anything else is a bug and fails the relay.
      if (!isTransientDbError(error)) throw error;
      failedWrites += 1;
      if (failedWrites === 1) logger.warn({ err: error }, 'relay could not store its checkpoint; trying again');
      else logger.debug({ err: error, failedWrites, nextInMs: retryDelayMs() }, 'relay could not store its checkpoint again');
      return;
    }
    if (failedWrites > 0) logger.info({ failedWrites }, 'relay stored its checkpoint again');
    failedWrites = 0;
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
      const batch = queue.slice(0, batchSize);
      const { done, failure } = await publishBatch(batch);
      queue.splice(0, done);
      wakeReader?.();
      // The event stalled on went out after a retry.
      if (done > 0) control.resolved();
      if (failure !== undefined) {
        if (await stallOn(queue[0]!, failure)) queue.shift();
        if (stopping) {
          await writeCheckpoint();
          return;
        }
        // After a retry it is tried again; after a park the relay goes on after it.
        continue;
      }
      if (writeDueIn() <= 0) await writeCheckpoint();
    }
  })();

  const done = Promise.all([publisher, subscription.done]).then(() => undefined);
  done.catch((error: unknown) => logger.error({ err: error }, 'relay failed'));

  return {
    status: () => ({ ...status }),
    reader: () => control.status(status.checkpoint),
    done,
    stop: async () => {
      stopping = true;
      control.interrupt();
      wakeReader?.();
      await subscription.stop();
      wakePublisher?.();
      await publisher;
    },
  };
}
