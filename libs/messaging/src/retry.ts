import { JetStreamApiError } from '@nats-io/jetstream';
import { ClosedConnectionError, ConnectionError, DrainingConnectionError, NoRespondersError, RequestError, TimeoutError } from '@nats-io/nats-core';

/** How a durable operation is retried. */
export interface RetryOptions {
  /** Maximum attempts in all (default: no limit other than maxElapsedMs). */
  attempts?: number;
  /** Stop retrying once this much time has passed since the first attempt (default 60 000 ms). */
  maxElapsedMs?: number;
  /** Delay after failed attempt n: a list (its last value repeats) or a function (default 50 ms doubling to 2 s, ±20 % jitter). */
  backoff?: readonly number[] | ((attempt: number) => number);
}

export const DEFAULT_RETRY = { maxElapsedMs: 60_000 } as const;

/** The delay after failed attempt `attempt` (1-based). */
export function backoffDelay(backoff: RetryOptions['backoff'], attempt: number): number {
  if (typeof backoff === 'function') return Math.max(0, backoff(attempt));
  if (backoff && backoff.length > 0) return backoff[Math.min(attempt, backoff.length) - 1] ?? 0;
  const base = Math.min(2_000, 50 * 2 ** (attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * Whether a failed publish or request may succeed if tried again: timeouts (no ack,
 * perhaps because the connection dropped), no responders (JetStream not yet up after a
 * restart) and "temporarily unavailable" answers. A closed or draining connection, or a
 * refusal from JetStream (wrong expectation, limits), will not get better.
 */
export function isTransient(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof ClosedConnectionError || e instanceof DrainingConnectionError) return false;
    if (e instanceof TimeoutError || e instanceof NoRespondersError || e instanceof ConnectionError) return true;
    if (e instanceof RequestError && e.isNoResponders()) return true;
    if (e instanceof JetStreamApiError) return e.status === 503;
    if (e.name === 'JetStreamNotEnabled') return true;
  }
  return false;
}
