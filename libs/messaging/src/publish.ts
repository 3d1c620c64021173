import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { encodePayload, outgoingHeaders, type HeadersInit } from './codec';
import { PublishFailedError } from './errors';
import { componentLogger } from './logger';
import { backoffDelay, DEFAULT_RETRY, isTransient, type RetryOptions } from './retry';

export interface PublishDurableOptions {
  /** Identity of the message: JetStream drops a repeat within the stream's duplicate window. */
  msgID: string;
  /** Extra headers; trace context is added by the propagator. */
  headers?: HeadersInit;
  /** Wait for each PubAck (default 5000 ms). */
  timeoutMs?: number;
  /** Retries on timeouts, no responders and connection loss (default: for up to 60 s). */
  retry?: RetryOptions;
  /** Fail unless the subject is stored by this stream (guards against a mis-declared subject). */
  expectStream?: string;
  logger?: Logger;
}

/**
 * Publishes to JetStream and waits for the stream's acknowledgement, retrying transient
 * failures with the same msgID. A timed-out attempt may still have been stored (the ack
 * was lost, or the buffered publish went out after a reconnect); the retry is then
 * answered as a duplicate, so the stream holds the message exactly once as long as
 * retries end within the stream's duplicate window. Core publishes are fire-and-forget
 * and can be lost in an outage: anything that must not be lost goes through here.
 *
 * Payload: any JSON value, or a Uint8Array sent as is.
 */
export async function publishDurable(js: JetStreamClient, subject: string, payload: unknown, options: PublishDurableOptions): Promise<PubAck> {
  const logger = componentLogger(options.logger, { component: 'publish', subject, msgID: options.msgID });
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const maxAttempts = retry.attempts ?? Number.POSITIVE_INFINITY;
  const data = encodePayload(payload);
  const headers = outgoingHeaders(options.headers);
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const ack = await js.publish(subject, data, {
        msgID: options.msgID,
        headers,
        timeout: options.timeoutMs ?? 5_000,
        ...(options.expectStream ? { expect: { streamName: options.expectStream } } : {}),
      });
      if (attempt > 1) logger.info({ attempt, duplicate: ack.duplicate, seq: ack.seq }, 'publish succeeded after retry');
      return ack;
    } catch (error) {
      const delay = backoffDelay(retry.backoff, attempt);
      const outOfBudget = attempt >= maxAttempts || Date.now() - started + delay > retry.maxElapsedMs;
      if (!isTransient(error) || outOfBudget) {
        throw new PublishFailedError(subject, options.msgID, attempt, { cause: error });
      }
      logger.warn({ attempt, delayMs: delay, err: error }, 'publish failed; retrying with the same msgID');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
