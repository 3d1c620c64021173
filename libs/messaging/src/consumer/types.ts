import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { WireIssue } from '../errors';
import type { RetryOptions } from '../retry';

/** What a handler gets besides the parsed message. */
export interface MessageContext {
  subject: string;
  stream: string;
  /** Stream sequence of the message. */
  seq: number;
  /** The payload as received (for limits checked on the bytes rather than the parsed value, and digests). */
  data: Uint8Array;
  /** This delivery's number, 1 on the first (the server's delivery count). */
  attempt: number;
  maxAttempts: number;
  /** The publisher's Nats-Msg-Id, else `<stream>:<seq>`: the key to give an inbox. */
  messageId: string;
  headers: MsgHdrs | undefined;
  /** Resets the server's ack timer; needed only with `heartbeat: 'manual'`. */
  working(): void;
  logger: Logger;
}

/** One message of a batch (see RunConsumerOptions.batch). */
export interface BatchItem<T> {
  message: T;
  ctx: MessageContext;
}

export interface RunConsumerOptions<S extends z.ZodType> {
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  /** Durable consumer name; instances sharing it share the work. */
  durable: string;
  filterSubject: string;
  /** Messages failing it (or not JSON) are dead-lettered with the issues, never handled. */
  schema: S;
  /**
   * Resolves → ack; throws → retry after the attempt's delay; throws PermanentError → dead-letter now.
   * Exactly one of `handler` and `batch` is given.
   */
  handler?: (message: z.output<S>, ctx: MessageContext) => Promise<void>;
  /**
   * Hands the messages of one key that are waiting together to `handler` (at most `max`,
   * in delivery order) instead of one by one: for work that is cheaper decided in bulk
   * (one lock, one read, one write for many). The handler answers per message, in order:
   * `undefined` → ack, an error → that message's retry or dead letter as with `handler`.
   * A batch handler that throws fails every message of the batch. Malformed messages and
   * those past their last attempt never reach it.
   */
  batch?: {
    max: number;
    handler: (items: readonly BatchItem<z.output<S>>[]) => Promise<readonly unknown[]>;
    /**
     * A batch waits this long after its first message before it takes the rest of its key's
     * waiting messages (0: the next turn of the event loop), so that messages arriving together
     * (one publisher's burst, one socket read) go as one batch instead of the first alone.
     * The key is busy meanwhile; ordering is unchanged. Default: none (the batch starts at once).
     */
    gatherMs?: number;
  };
  /** Delay before each retry; attempts = backoffMs.length + 1 (default 5 s, 15 s, 45 s, 2 min, 5 min). */
  backoffMs?: readonly number[];
  /** Where a message goes after its last attempt, or at once when malformed. */
  deadLetter: { subjectFor(originalSubject: string): string };
  /** Ordering key: same key → one at a time in delivery order (default: the subject). */
  keyOf?: (message: z.output<S>, raw: { subject: string }) => string;
  /** Handlers running at once, across different keys (default 1). */
  concurrency?: number;
  /** Server's ack timer; heartbeats go out every ackWaitMs / 3 (default 30 000). */
  ackWaitMs?: number;
  /** Messages held unacknowledged (running or waiting for their key); bounds lookahead (default max(16, 4 × concurrency)). */
  maxAckPending?: number;
  /** 'auto' (default): running handlers are kept alive by the runner; 'manual': only by ctx.working(). */
  heartbeat?: 'auto' | 'manual';
  /** Retry policy of dead-letter publishes (default: publishDurable's). */
  deadLetterRetry?: RetryOptions;
  logger?: Logger;
  /** The clock for failure times (tests may pass their own). */
  now?: () => Date;
}

export interface ConsumerStats {
  /** Handled successfully and acked. */
  processed: number;
  /** Failed and nak'd for a later attempt. */
  retried: number;
  /** Sent to the dead-letter subject (malformed ones included). */
  deadLettered: number;
  /** Dead-lettered because they were not JSON or failed the schema. */
  malformed: number;
  /** Handlers running now. */
  inFlight: number;
  /** Received and waiting for a handler slot or for their key. */
  waiting: number;
}

export interface ConsumerRunner {
  readonly durable: string;
  stats(): ConsumerStats;
  /**
   * Stops fetching, lets the handlers finish every message already received (running or
   * waiting for its key; at most maxAckPending), then resolves. Idempotent.
   */
  stop(): Promise<void>;
}

/** A message held by the runner, from receipt until it is acked or nak'd. */
export interface Held<T> {
  /** The newest delivery: acks go to it, so a redelivery we already hold is settled once. */
  msg: JsMsg;
  seq: number;
  key: string;
  parsed: { ok: true; value: T } | { ok: false; error: string; issues?: WireIssue[] };
  /** Kept alive by the runner's heartbeat (always while waiting; while running, in 'auto' mode). */
  keepAlive: boolean;
}
