/** Default redelivery delays: attempt n waits DEFAULT_BACKOFF_MS[n-1]; after the last, the dead-letter queue. */
export const DEFAULT_BACKOFF_MS: readonly number[] = [5_000, 15_000, 45_000, 120_000, 300_000];

export type DeadLetterReason = 'exhausted' | 'permanent' | 'malformed';

export type FailureDecision = { action: 'retry'; delayMs: number } | { action: 'dead-letter'; reason: DeadLetterReason };

/** Attempts in all: the first delivery plus one per backoff delay. */
export const maxAttemptsFor = (backoffMs: readonly number[]): number => backoffMs.length + 1;

/**
 * What to do after a handler failed on delivery `attempt` (1-based, the server's
 * delivery count): retry after that attempt's delay, or dead-letter once the attempts
 * are spent or the error says retrying cannot help.
 */
export function decideOnFailure(attempt: number, backoffMs: readonly number[], permanent: boolean): FailureDecision {
  if (permanent) return { action: 'dead-letter', reason: 'permanent' };
  if (attempt >= maxAttemptsFor(backoffMs)) return { action: 'dead-letter', reason: 'exhausted' };
  return { action: 'retry', delayMs: backoffMs[attempt - 1] ?? 0 };
}

/**
 * Before calling the handler: a delivery beyond the last attempt (the process died
 * during the last attempt, or dead-lettering failed and was retried) is dead-lettered
 * without running the handler again.
 */
export function isBeyondLastAttempt(attempt: number, backoffMs: readonly number[]): boolean {
  return attempt > maxAttemptsFor(backoffMs);
}
