const MAX_ENTRIES = 10_000;

/**
 * First failure time and last error per stream sequence, for the dead letter's headers.
 * In memory: after a restart (or on another instance) the record starts again, so the
 * "first failure" is the first one this runner saw. Bounded, oldest entries dropped.
 */
export class FailureLog {
  readonly #entries = new Map<number, { first: Date; lastError: string }>();

  /** Records a failure; returns the first failure time known for the message. */
  record(seq: number, at: Date, error: string): Date {
    const existing = this.#entries.get(seq);
    const first = existing?.first ?? at;
    this.#entries.delete(seq);
    this.#entries.set(seq, { first, lastError: error });
    if (this.#entries.size > MAX_ENTRIES) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    return first;
  }

  firstFailure(seq: number): Date | undefined {
    return this.#entries.get(seq)?.first;
  }

  lastError(seq: number): string | undefined {
    return this.#entries.get(seq)?.lastError;
  }

  forget(seq: number): void {
    this.#entries.delete(seq);
  }
}
