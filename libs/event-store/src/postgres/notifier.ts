/**
 * Announces the store's own committed appends to LISTENers, outside the append
 * transactions: at most one NOTIFY on its way at a time, and one more after it if
 * appends committed meanwhile. Subscribers still wake within a round trip, and
 * concurrent appends no longer queue on PostgreSQL's global NOTIFY lock at commit.
 */
import type { Queryable } from './append';

export class CommitNotifier {
  private sending = false;
  private pending = false;

  constructor(
    private readonly db: Queryable,
    private readonly channel: string,
    /** A failed NOTIFY only delays subscribers until their next poll. */
    private readonly onError: (error: Error) => void = () => undefined,
  ) {}

  /** Call after appends committed. */
  committed(): void {
    this.pending = true;
    if (!this.sending) void this.flush();
  }

  private async flush(): Promise<void> {
    this.sending = true;
    try {
      while (this.pending) {
        this.pending = false;
        await this.db.query({ name: 'event_store_notify', text: 'select pg_notify($1, $2)', values: [this.channel, ''] }).catch((error: unknown) => {
          this.onError(error instanceof Error ? error : new Error(String(error)));
        });
      }
    } finally {
      this.sending = false;
    }
  }
}
