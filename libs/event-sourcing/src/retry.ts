/**
 * The loop every command handler shares: run an attempt, and when it lost a race — someone
 * appended to a stream between its read and its append (ConcurrencyError, or an event id
 * stored meanwhile: EventIdConflictError) — run it again on what is stored now, a bounded
 * number of times. handleCommand and handleCommandOnStreams use it; so does a process that
 * decides over many streams in steps of its own (fairness's distribution batch).
 */
import { isConcurrencyError, isEventIdConflictError } from '@fairlead/event-store';
import { TooManyConflictsError } from './errors';

export const DEFAULT_MAX_CONFLICTS = 5;

/** Someone else wrote to the stream between our read and our append. */
export const isConflict = (error: unknown): boolean => isConcurrencyError(error) || isEventIdConflictError(error);

export interface RetryOnConflictOptions {
  /** Attempts again after a lost race before TooManyConflictsError (default 5; 0: never again). */
  maxConflicts?: number;
  /** Before each new attempt (re-read what the attempt keeps in memory). */
  onConflict?: (error: unknown, conflicts: number) => Promise<void> | void;
  /** A conflict that is the caller's to resolve (an If-Match): thrown as it is, never retried. */
  retries?: (error: unknown) => boolean;
}

/**
 * `attempt(afterConflict)` until it does not lose a race; its other errors are thrown as they
 * are. After `maxConflicts` lost races: TooManyConflictsError naming `what`, the last conflict its cause.
 */
export async function retryOnConflict<T>(what: string, attempt: (afterConflict: boolean) => Promise<T>, options: RetryOnConflictOptions = {}): Promise<T> {
  const maxConflicts = options.maxConflicts ?? DEFAULT_MAX_CONFLICTS;
  for (let conflicts = 0; ; conflicts++) {
    try {
      return await attempt(conflicts > 0);
    } catch (error) {
      if (!isConflict(error) || (options.retries && !options.retries(error))) throw error;
      if (conflicts >= maxConflicts) throw new TooManyConflictsError(what, conflicts + 1, error);
      await options.onConflict?.(error, conflicts + 1);
    }
  }
}
