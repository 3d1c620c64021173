/**
 * Announces the store's own committed appends to LISTENers, outside the append
 * transactions: after a quiet spell the first commit is announced at once; under a
 * steady stream of commits, at most one NOTIFY every `minIntervalMs`. Subscribers still
 * wake within milliseconds, concurrent appends no longer queue on PostgreSQL's global
 * NOTIFY lock at commit, and a busy writer spends one small query per interval, not per append.
 *
 * When the notifier is idle (nothing waiting or on its way, the interval since the last one
 * over), the next append may carry the NOTIFY in its own transaction instead (tryInline): at
 * a low rate, where nearly every append is alone, that saves a statement and a commit per
 * append. Only one append at a time does so, and not more than once per interval, so a busy
 * writer still never queues its commits on the NOTIFY lock.
 */
import type { Queryable } from './append';

export class CommitNotifier {
  private sending: Promise<void> | undefined;
  private pending = false;
  private lastSent = 0;
  /** The categories committed since the last NOTIFY; undefined: any (a commit that did not say). */
  private categories: Set<string> | undefined = new Set();
  /** An append carrying the NOTIFY itself is on its way. */
  private inline = false;

  constructor(
    private readonly db: Queryable,
    private readonly channel: string,
    private readonly minIntervalMs: number,
    /** A failed NOTIFY only delays subscribers until their next poll. */
    private readonly onError: (error: Error) => void = () => undefined,
  ) {}

  /** Call after appends committed, with the streams written (the NOTIFY names their categories; none given: any). */
  committed(streams?: Iterable<string>): void {
    if (streams === undefined) this.categories = undefined;
    else if (this.categories) for (const stream of streams) this.categories.add(categoryOf(stream));
    this.pending = true;
    this.sending ??= this.flush().finally(() => {
      this.sending = undefined;
    });
  }

  /**
   * May the append about to leave send the NOTIFY inside its transaction? Yes when the notifier
   * is idle; the caller then calls inlineDone() once the append is over (committed or failed —
   * a failed append committed nothing there is to announce) and does not call committed() for it.
   */
  tryInline(): boolean {
    if (this.inline || this.pending || this.sending || Date.now() < this.lastSent + this.minIntervalMs) return false;
    this.inline = true;
    this.lastSent = Date.now();
    return true;
  }

  inlineDone(): void {
    this.inline = false;
  }

  /**
   * Runs one of the store's own appends, telling it whether to carry the NOTIFY itself
   * (tryInline); when it does not, the streams it wrote (`written`) are announced as usual.
   */
  async appending<T>(append: (notify: boolean) => Promise<T>, written: (result: T) => readonly string[]): Promise<T> {
    const inline = this.tryInline();
    try {
      const result = await append(inline);
      const streams = written(result);
      if (streams.length > 0 && !inline) this.committed(streams);
      return result;
    } finally {
      if (inline) this.inlineDone();
    }
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
      const payload = notifyPayload(this.categories);
      this.categories = new Set();
      await this.db.query({ name: 'event_store_notify', text: 'select pg_notify($1, $2)', values: [this.channel, payload] }).catch((error: unknown) => {
        this.onError(error instanceof Error ? error : new Error(String(error)));
      });
    }
  }
}

/** A stream's category: its name up to the first '-' (as read_page filters). */
export const categoryOf = (stream: string): string => stream.split('-', 1)[0]!;

/** NOTIFY payloads stay far below PostgreSQL's 8000 bytes; a longer list says "any" instead. */
const MAX_PAYLOAD = 4_000;

/** The payload naming `categories` ('' = any category: every subscriber reads). */
export function notifyPayload(categories: ReadonlySet<string> | undefined): string {
  if (!categories || categories.size === 0) return '';
  const payload = [...categories].sort().join(',');
  return payload.length > MAX_PAYLOAD ? '' : payload;
}

/** The categories a NOTIFY names; undefined when it names none (any: a reconnect, an older writer). */
export function notifiedCategories(payload: string | undefined): readonly string[] | undefined {
  return payload ? payload.split(',') : undefined;
}
