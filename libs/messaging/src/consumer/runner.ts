import { AckPolicy, DeliverPolicy, ReplayPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { z } from 'zod';
import { decodeJson, toWireIssues } from '../codec';
import { declareConsumer } from '../declarations';
import { isPermanentError } from '../errors';
import { componentLogger } from '../logger';
import { publishDurable } from '../publish';
import { tracePropagator } from '../trace';
import { boundedPayload, deadLetterHeaders, type DeadLetterInfo } from './dead-letter';
import { decideOnFailure, DEFAULT_BACKOFF_MS, isBeyondLastAttempt, maxAttemptsFor, type DeadLetterReason } from './failure-policy';
import { FailureLog } from './failure-log';
import { KeyedQueue } from './keyed-queue';
import type { ConsumerRunner, ConsumerStats, Held, MessageContext, RunConsumerOptions } from './types';

/** How long an ack may wait for others to go with it. */
const ACK_GATHER_MS = 5;

/**
 * Nak with a delay of at least 1 ms. nats-server 2.9 mishandles a redelivery that comes
 * due while no live pull request waits (e.g. only the stale request of a closed
 * consumer): it delivers another message twice, the second time with delivery count 1,
 * and the skipped one only after ack_wait (fixed upstream in nats-server 2.10.x, PRs
 * #5305 and #5338). An immediate nak always hits that window; a delay mostly avoids it,
 * and a duplicate is harmless to idempotent handlers (see createInbox).
 */
function nak(msg: JsMsg, delayMs: number): void {
  msg.nak(Math.max(1, Math.round(delayMs)));
}

/** The idle heartbeat asked of the server for each pull request (see the consume() call). */
export const PULL_IDLE_HEARTBEAT_MS = 1_000;

/**
 * Runs a durable pull consumer: explicit acks, retries with per-attempt delays (nak),
 * dead letters, heartbeats for long handlers, and per-key ordering.
 *
 * Ordering: messages with the same key are handled one at a time, in delivery order,
 * within this runner; different keys run in parallel up to `concurrency`. A failed
 * message is nak'd with a delay and its key is freed, so later messages of that key
 * may be handled before its retry: ordering is per delivery, not "a key stops until
 * its failed message succeeds". Handlers that need strict order check it against their
 * own state (e.g. an expected version) and fail to wait for the missing predecessor.
 * Across runner instances sharing the durable, order holds only if a key's messages
 * reach one instance — partition by subject for that.
 */
export async function runConsumer<S extends z.ZodType>(options: RunConsumerOptions<S>): Promise<ConsumerRunner> {
  type T = z.output<S>;
  const { js, jsm, stream, durable } = options;
  const backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  const maxAttempts = maxAttemptsFor(backoffMs);
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const ackWaitMs = options.ackWaitMs ?? 30_000;
  const maxAckPending = options.maxAckPending ?? Math.max(16, 4 * concurrency);
  const heartbeatMode = options.heartbeat ?? 'auto';
  const now = options.now ?? (() => new Date());
  const logger = componentLogger(options.logger, { component: 'consumer', stream, durable });
  const single = options.handler;
  const batch = options.batch;
  if ((single === undefined) === (batch === undefined)) throw new Error('runConsumer takes exactly one of handler and batch');
  const maxBatch = Math.max(1, batch?.max ?? 1);
  const gatherMs = batch?.gatherMs === undefined ? undefined : Math.max(0, batch.gatherMs);

  await declareConsumer(jsm, {
    stream,
    config: {
      durable_name: durable,
      filter_subject: options.filterSubject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      replay_policy: ReplayPolicy.Instant,
      ack_wait: nanos(ackWaitMs),
      // The runner counts attempts and dead-letters itself; the server must never give
      // up on a message on its own (it would vanish without a dead letter).
      max_deliver: -1,
      max_ack_pending: maxAckPending,
    },
  }, {
    onRetry: (target, error, delayMs) => logger.warn({ reason: oneLine(error), delayMs }, `JetStream cannot declare ${target} yet; retrying`),
  });

  const held = new Map<number, Held<T>>();
  const queue = new KeyedQueue<Held<T>>();
  const failures = new FailureLog();
  const counters = { processed: 0, retried: 0, deadLettered: 0, malformed: 0 };
  let inFlight = 0;
  let stopping = false;
  let messages: ConsumerMessages | undefined;
  let onIdle: (() => void) | undefined;
  let wakePuller: (() => void) | undefined;
  let stopped: Promise<void> | undefined;
  const confirming = new Set<Promise<void>>();
  /** Keys whose batch waits out gatherMs for the rest of a burst: starts it now. */
  const gathering = new Map<string, () => void>();

  const heartbeat = setInterval(() => {
    for (const entry of held.values()) if (entry.keepAlive) settle(entry, (m) => m.working());
  }, Math.max(100, Math.floor(ackWaitMs / 3)));

  function settle(entry: Held<T>, action: (msg: JsMsg) => void): void {
    try {
      action(entry.msg);
    } catch (error) {
      // Only fails on a closed connection; the server redelivers after ack_wait.
      logger.warn({ err: error, seq: entry.seq }, 'could not send ack/nak/working');
    }
  }

  // A plain ack is one message to the server; a confirmed one (ackAck) is two, and a reply
  // the client waits for: a third of a consumer's traffic at low rates. Running, nobody
  // would wait for a confirmation anyway (during an outage it can take the whole timeout,
  // and a key, or the whole consumer once max_ack_pending is reached, must not stall on
  // it), and an ack that gets lost means a redelivery, which idempotent handlers skip.
  //
  // Acks also wait up to ACK_GATHER_MS and leave together: one write, one wake-up of the
  // server's reader and of the consumer's ack queue for all of them instead of one each.
  // An ack is on no lead's path (its key moves on at once); a crash in between means a
  // redelivery, as a crash between a handler and its ack always did.
  //
  // Once stop() has begun, acks (those still waiting too) are confirmed and stop() waits
  // for them: the server takes a consumer's acks in order (one queue, one reader), so a
  // confirmed ack also answers for every plain ack this runner sent before it.
  let unsentAcks: Held<T>[] = [];
  let ackTimer: ReturnType<typeof setTimeout> | undefined;

  function ack(entry: Held<T>): void {
    if (stopping) {
      confirmedAck(entry);
      return;
    }
    unsentAcks.push(entry);
    ackTimer ??= setTimeout(sendAcks, ACK_GATHER_MS);
  }

  function sendAcks(): void {
    clearTimeout(ackTimer);
    ackTimer = undefined;
    const entries = unsentAcks;
    unsentAcks = [];
    for (const entry of entries) {
      if (stopping) confirmedAck(entry);
      else settle(entry, (m) => m.ack());
    }
  }

  function confirmedAck(entry: Held<T>): void {
    const confirmation = entry.msg
      // Past ack_wait the server redelivers anyway; waiting longer tells nothing more.
      .ackAck({ timeout: Math.min(ackWaitMs, 5_000) })
      .then(
        () => undefined,
        (error: unknown) => logger.warn({ err: error, seq: entry.seq }, 'ack not confirmed; the message may be redelivered'),
      )
      .finally(() => confirming.delete(confirmation));
    confirming.add(confirmation);
  }

  function receive(msg: JsMsg): void {
    const existing = held.get(msg.seq);
    if (existing) {
      // Redelivered while still ours (a heartbeat got lost): settle through the newest delivery.
      existing.msg = msg;
      return;
    }
    const entry = parse(msg);
    held.set(msg.seq, entry);
    queue.push(entry.key, entry);
    // A batch gathering for its key goes at once when the rest of it has arrived: waiting
    // longer adds nothing to it.
    const gather = gathering.get(entry.key);
    if (gather && queue.countOf(entry.key) >= maxBatch - 1) gather();
    pump();
  }

  function parse(msg: JsMsg): Held<T> {
    const base = { msg, seq: msg.seq, keepAlive: true };
    // Malformed messages get a key of their own: they never wait for, nor hold up, a key.
    const ownKey = `\u0000malformed:${msg.seq}`;
    const decoded = decodeJson(msg.data);
    if (!decoded.ok) return { ...base, key: ownKey, parsed: { ok: false, error: decoded.error } };
    const result = options.schema.safeParse(decoded.value);
    if (!result.success) {
      return { ...base, key: ownKey, parsed: { ok: false, error: 'message does not match its schema', issues: toWireIssues(result.error.issues) } };
    }
    try {
      const key = options.keyOf ? options.keyOf(result.data, { subject: msg.subject }) : msg.subject;
      return { ...base, key, parsed: { ok: true, value: result.data } };
    } catch (error) {
      return { ...base, key: ownKey, parsed: { ok: false, error: `keyOf failed: ${(error as Error).message}` } };
    }
  }

  function pump(): void {
    while (inFlight < concurrency) {
      const next = queue.take();
      if (!next) return;
      inFlight++;
      const start = () => {
        // In batch mode the key's other waiting messages go along (the key is busy: nobody else takes them).
        const entries = [next.item, ...(batch ? queue.takeMore(next.key, maxBatch - 1) : [])];
        for (const entry of entries) entry.keepAlive = heartbeatMode === 'auto';
        void handleAll(entries)
          .catch((error: unknown) => logger.error({ err: error, seqs: entries.map((e) => e.seq) }, 'unexpected runner failure; the server will redeliver'))
          .finally(() => {
            inFlight--;
            for (const entry of entries) held.delete(entry.seq);
            queue.release(next.key);
            pump();
            if (held.size === 0) onIdle?.();
          });
      };
      if (gatherMs === undefined) start();
      else if (gatherMs === 0) setImmediate(start);
      else {
        const go = () => {
          clearTimeout(timer);
          gathering.delete(next.key);
          start();
        };
        const timer = setTimeout(go, gatherMs);
        gathering.set(next.key, go);
      }
    }
  }

  /** Dead-letters what must not reach a handler (malformed, past the last attempt); true when it did. */
  async function screen(entry: Held<T>, attempt: number): Promise<boolean> {
    if (!entry.parsed.ok) {
      counters.malformed++;
      const failedAt = now();
      logger.warn({ seq: entry.seq, subject: entry.msg.subject, error: entry.parsed.error }, 'malformed message; dead-lettering');
      await deadLetter(entry, 'malformed', entry.parsed.error, attempt, failedAt, failedAt);
      return true;
    }
    if (isBeyondLastAttempt(attempt, backoffMs)) {
      const failedAt = now();
      const first = failures.firstFailure(entry.seq) ?? failedAt;
      await deadLetter(entry, 'exhausted', failures.lastError(entry.seq) ?? 'attempts exhausted', attempt, first, failedAt);
      return true;
    }
    return false;
  }

  const spanOf = (entry: Held<T>, attempt: number, size?: number) => ({
    name: `process ${entry.msg.subject}`,
    kind: 'consumer' as const,
    attributes: {
      'messaging.system': 'nats',
      'messaging.destination.name': entry.msg.subject,
      'messaging.consumer.group.name': durable,
      'messaging.nats.attempt': attempt,
      ...(size !== undefined ? { 'messaging.batch.message_count': size } : {}),
    },
  });

  async function handleAll(entries: readonly Held<T>[]): Promise<void> {
    const runnable: { entry: Held<T>; value: T; ctx: MessageContext }[] = [];
    for (const entry of entries) {
      const attempt = entry.msg.info.deliveryCount;
      if (await screen(entry, attempt)) continue;
      if (entry.parsed.ok) runnable.push({ entry, value: entry.parsed.value, ctx: context(entry, attempt) });
    }
    const first = runnable[0];
    if (!first) return;
    if (single) {
      try {
        await tracePropagator().withExtracted(first.entry.msg.headers, () => single(first.value, first.ctx), spanOf(first.entry, first.ctx.attempt));
        succeeded(first.entry);
      } catch (error) {
        await failed(first.entry, first.ctx.attempt, error);
      }
      return;
    }
    let outcomes: readonly unknown[];
    try {
      // One span for the batch, in the first message's trace: a batch has no single parent.
      outcomes = await tracePropagator().withExtracted(
        first.entry.msg.headers,
        () => batch!.handler(runnable.map(({ value, ctx }) => ({ message: value, ctx }))),
        spanOf(first.entry, first.ctx.attempt, runnable.length),
      );
      if (outcomes.length !== runnable.length) throw new Error(`the batch handler answered ${outcomes.length} outcomes for ${runnable.length} messages`);
    } catch (error) {
      outcomes = runnable.map(() => error ?? new Error('batch handler failed'));
    }
    for (const [i, { entry, ctx }] of runnable.entries()) {
      const outcome = outcomes[i];
      if (outcome === undefined) succeeded(entry);
      else await failed(entry, ctx.attempt, outcome);
    }
  }

  function succeeded(entry: Held<T>): void {
    ack(entry);
    failures.forget(entry.seq);
    counters.processed++;
  }

  async function failed(entry: Held<T>, attempt: number, error: unknown): Promise<void> {
    const failedAt = now();
    const message = error instanceof Error ? error.message : String(error);
    const first = failures.record(entry.seq, failedAt, message);
    const decision = decideOnFailure(attempt, backoffMs, isPermanentError(error));
    if (decision.action === 'retry') {
      logger.warn({ seq: entry.seq, attempt, delayMs: decision.delayMs, err: error }, 'handler failed; retrying later');
      settle(entry, (m) => nak(m, decision.delayMs));
      counters.retried++;
    } else {
      logger.error({ seq: entry.seq, attempt, reason: decision.reason, err: error }, 'handler failed; dead-lettering');
      await deadLetter(entry, decision.reason, message, attempt, first, failedAt);
    }
  }

  function context(entry: Held<T>, attempt: number): MessageContext {
    const msgId = entry.msg.headers?.get('Nats-Msg-Id');
    return {
      subject: entry.msg.subject,
      stream,
      seq: entry.seq,
      data: entry.msg.data,
      attempt,
      maxAttempts,
      messageId: msgId || `${stream}:${entry.seq}`,
      headers: entry.msg.headers,
      working: () => settle(entry, (m) => m.working()),
      logger: logger.child({ seq: entry.seq, attempt }),
    };
  }

  async function deadLetter(entry: Held<T>, reason: DeadLetterReason, error: string, attempts: number, firstFailureAt: Date, lastFailureAt: Date): Promise<void> {
    const msg = entry.msg;
    const originalMsgId = msg.headers?.get('Nats-Msg-Id');
    // Bounded, so that the dead letter always fits the bus and is always recorded.
    const payload = boundedPayload(msg.data);
    const info: DeadLetterInfo = {
      reason,
      error,
      ...(!entry.parsed.ok && entry.parsed.issues ? { issues: entry.parsed.issues } : {}),
      attempts,
      originalSubject: msg.subject,
      originalStream: stream,
      originalSequence: entry.seq,
      ...(originalMsgId ? { originalMsgId } : {}),
      consumer: durable,
      firstFailureAt,
      lastFailureAt,
      payload: { bytes: payload.bytes, sha256: payload.sha256, truncated: payload.truncated },
    };
    try {
      await publishDurable(js, options.deadLetter.subjectFor(msg.subject), payload.data, {
        // Dead-lettering the same delivery twice (crash before the ack) stays one dead letter.
        msgID: `${stream}:${durable}:${entry.seq}`,
        headers: deadLetterHeaders(msg.headers, info),
        ...(options.deadLetterRetry ? { retry: options.deadLetterRetry } : {}),
        logger,
      });
    } catch (publishError) {
      // Not acked: the message stays in the stream and comes back to be dead-lettered again.
      logger.error({ err: publishError, seq: entry.seq }, 'dead-letter publish failed; leaving the message for later');
      settle(entry, (m) => nak(m, backoffMs.at(-1) ?? ackWaitMs));
      return;
    }
    ack(entry);
    failures.forget(entry.seq);
    counters.deadLettered++;
  }

  /**
   * What the client library notices about its pull requests, in the log. A pull request the
   * server dropped without a word is found only after two missed idle heartbeats (nats.js:
   * half the request's 30 s expiry each), and no message arrives meanwhile: a stall that was
   * otherwise invisible. Warned: missed heartbeats, a limit exceeded, the consumer or stream
   * gone, nobody answering; the routine ones (expiry, the next pull, heartbeats) at debug.
   */
  function watchPulls(consuming: ConsumerMessages): void {
    void (async () => {
      for await (const status of consuming.status()) {
        switch (status.type) {
          case 'heartbeats_missed':
            logger.warn({ count: status.count }, 'no message and no heartbeat from the server for two heartbeat intervals; pulling again');
            break;
          case 'exceeded_limits':
          case 'consumer_deleted':
          case 'consumer_not_found':
          case 'stream_not_found':
          case 'no_responders':
            logger.warn({ status }, `pull request: ${status.type.replaceAll('_', ' ')}`);
            break;
          case 'next':
          case 'heartbeat':
            break;
          default:
            logger.debug({ status }, 'pull request status');
        }
      }
    })().catch((error: unknown) => logger.debug({ err: error }, 'pull request status stream ended'));
  }

  // consume() recovers from reconnects and server restarts by itself; this loop only
  // restarts it if it ever ends with an error (e.g. the consumer was deleted).
  const pulling = (async () => {
    while (!stopping) {
      try {
        const consumer = await js.consumers.get(stream, durable);
        if (stopping) break;
        // One pull request asks for 4 × max_ack_pending messages and the next goes out once
        // 3 × max_ack_pending of them have come (nats.js' default, a request per quarter of
        // max_messages, was one per 4 messages at the default 16). The server still hands
        // out at most max_ack_pending unacknowledged messages, whatever the request asks:
        // the lookahead is unchanged. Instances sharing the durable take turns: the server
        // serves waiting requests round-robin, one message each.
        //
        // The server's idle heartbeat comes every PULL_IDLE_HEARTBEAT_MS (nats.js' default is half the
        // request's 30 s expiry): a request the server no longer holds is noticed after two missed
        // heartbeats, and only then pulled again. nats-server before 2.9.16 (Debian's is 2.9.10) drops a
        // request whose expiry it meets while handing out a message without telling the client
        // (`nextWaiting`; fixed upstream by "Fix Pull Consumer not sending request timeout", df282a221).
        // With 15 s heartbeats that stalled the consumer for ~30 s under steady traffic
        // (bench:distribution: DistributionRequested → StartLevelClaimed p99 31.8 s); with these, ~2 s.
        messages = await consumer.consume({ max_messages: 4 * maxAckPending, threshold_messages: maxAckPending, idle_heartbeat: PULL_IDLE_HEARTBEAT_MS, callback: receive });
        watchPulls(messages);
        if (stopping) {
          // stop() came while consume() was starting and found nothing to close.
          await messages.close();
          break;
        }
        const ended = await messages.closed();
        if (stopping) break;
        logger.warn({ reason: oneLine(ended) }, 'consume ended; restarting in 1 s');
      } catch (error) {
        if (stopping) break;
        // Usual while JetStream starts or elects a stream leader: the reason in one line, no stack.
        logger.warn({ reason: oneLine(error) }, 'could not start consuming; retrying in 1 s');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        wakePuller = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();

  return {
    durable,
    stats: (): ConsumerStats => ({ ...counters, inFlight, waiting: queue.pending }),
    stop: () => (stopped ??= stop()),
  };

  async function stop(): Promise<void> {
    stopping = true;
    // The acks still waiting go now, confirmed.
    sendAcks();
    await messages?.close();
    wakePuller?.();
    await pulling;
    // Messages already received are finished too, not released: a release is a nak,
    // which spends an attempt and, on nats-server 2.9, can trip its redelivery bug
    // (see nak above). The wait is bounded by maxAckPending.
    if (held.size > 0) await new Promise<void>((resolve) => (onIdle = resolve));
    await Promise.all([...confirming]);
    clearInterval(heartbeat);
    logger.info(counters, 'consumer stopped');
  }
}

/** An error as one line (`TimeoutError: timeout`), for expected, retried failures. */
function oneLine(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.split('\n')[0]!;
  return String(error);
}
