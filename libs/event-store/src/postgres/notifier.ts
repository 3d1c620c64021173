/**
 * Announces the store's own committed appends to LISTENers, outside the append
 * transactions: after a quiet spell the first commit is announced at once; under a
 * steady stream of commits, at most one NOTIFY every `minIntervalMs`. Subscribers still
 * wake within milliseconds, concurrent appends no longer queue on PostgreSQL's global
 * NOTIFY lock at commit, and a busy writer spends one small query per interval, not per append.
 */
import type { Queryable } from './append';

export class CommitNotifier {
  private sending: Promise<void> | undefined;
  private pending = false;
  private lastSent = 0;

  constructor(
    private readonly db: Queryable,
    private readonly channel: string,
    private readonly minIntervalMs: number,
    /** A failed NOTIFY only delays subscribers until their next poll. */
    private readonly onError: (error: Error) => void = () => undefined,
  ) {}

  /** Call after appends committed. */
  committed(): void {
    this.pending = true;
    this.sending ??= this.flush().finally(() => {
      this.sending = undefined;
    });
  }

  /** Resolves when nothing is waiting to be sent (before the pool is ended). */
  async idle(): Promise<void> {
    while (this.sending) await this.sending;
  }

  private async flush(): Promise<void> {
    while (this.pending) {
      const wait = this.lastSent + this.minIntervalMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      this.pending = false;
      this.lastSent = Date.now();
      await this.db.query({ name: 'event_store_notify', text: 'select pg_notify($1, $2)', values: [this.channel, ''] }).catch((error: unknown) => {
        this.onError(error instanceof Error ? error : new Error(String(error)));
      });
    }
  }
}
