/**
 * A subscription: reads the global log page by page from its checkpoint, hands each
 * event to the handler, and when caught up waits for a NOTIFY, a slow poll, or — while
 * committed events are held back by an older open transaction — a quick re-poll, since
 * that transaction may end without any notification (rollback, or no events of its own).
 *
 * The slow poll is a safety net under LISTEN (a NOTIFY lost with its connection): every
 * read that finds nothing without being asked doubles it, from pollIntervalMs up to
 * maxPollIntervalMs; a notification or a read that finds events starts it over. An idle
 * store is then read once every maxPollIntervalMs per subscription, not every second
 * (each read a query, a transaction and a wake-up of the process and its backend).
 */
import type { Checkpoint, SubscribeOptions, Subscription } from '../types';
import type { GlobalPage } from './read';

export interface SubscriptionDeps {
  readPage(from: Checkpoint, batchSize: number, categories?: readonly string[]): Promise<GlobalPage>;
  /** Registers a wake-up callback (LISTEN), called with the categories committed (undefined: any); returns its unregister function. */
  onWake(wake: (categories?: readonly string[]) => void): () => void;
  pollIntervalMs: number;
  /** Longest slow poll once the log has stayed quiet (the poll doubles up to it). */
  maxPollIntervalMs: number;
  heldBackPollMs: number;
  maxHeldBackPollMs: number;
  /** Reports read failures that are being retried. */
  onReadError?: (error: Error) => void;
}

const DEFAULT_BATCH_SIZE = 500;

export function startSubscription(deps: SubscriptionDeps, options: SubscribeOptions): Subscription {
  const { handler, pageHandler } = options;
  if ((handler === undefined) === (pageHandler === undefined)) throw new Error('subscribe takes exactly one of handler and pageHandler');
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const minReadIntervalMs = options.minReadIntervalMs ?? 0;
  let stopped = false;
  let signalled = false;
  // While spacing reads (minReadIntervalMs), a notification is remembered but wakes nobody.
  let spacing = false;
  // readNow() came: no spacing before the next read.
  let hurry = false;
  let interrupt: (() => void) | undefined;
  const wake = (committed?: readonly string[]) => {
    // A commit of other categories only has nothing for this subscription to read.
    if (committed && options.categories && !committed.some((c) => options.categories!.includes(c))) return;
    signalled = true;
    // A commit of an eager category is read at once, as readNow() would: the spacing is for the busy categories.
    if (committed && options.eagerCategories?.some((c) => committed.includes(c))) {
      hurry = true;
      interrupt?.();
    } else if (!spacing) interrupt?.();
  };

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        interrupt = undefined;
        resolve();
      }
      interrupt = done;
    });

  const run = async () => {
    const unregister = deps.onWake(wake);
    try {
      let checkpoint = options.from;
      let heldBackDelay = deps.heldBackPollMs;
      let quietPollMs = deps.pollIntervalMs;
      let readRetryDelay = 100;
      // The first read is asked for: it starts the slow poll at pollIntervalMs.
      signalled = true;
      while (!stopped) {
        // A notification or readNow() asked for this read (else the slow poll's timer did).
        const asked = signalled;
        // Cleared before reading: a notification that arrives during the read or the
        // handlers triggers one more read instead of being missed.
        signalled = false;
        hurry = false;
        const readStartedAt = Date.now();
        let page: GlobalPage;
        try {
          page = await deps.readPage(checkpoint, batchSize, options.categories);
          readRetryDelay = 100;
        } catch (error) {
          if (!isTransient(error)) throw error;
          deps.onReadError?.(error as Error);
          await pause(readRetryDelay);
          readRetryDelay = Math.min(readRetryDelay * 2, 5_000);
          continue;
        }
        if (pageHandler) {
          if (stopped) return;
          if (page.events.length > 0) await pageHandler(page.events);
        } else {
          for (const event of page.events) {
            if (stopped) return;
            await handler!(event);
          }
        }
        checkpoint = page.checkpoint;
        quietPollMs = asked || page.events.length > 0 ? deps.pollIntervalMs : Math.min(quietPollMs * 2, deps.maxPollIntervalMs);
        if (page.full || stopped) continue;
        let delay = quietPollMs;
        if (page.heldBack) {
          delay = heldBackDelay;
          heldBackDelay = Math.min(heldBackDelay * 2, deps.maxHeldBackPollMs);
        } else {
          heldBackDelay = deps.heldBackPollMs;
        }
        if (!signalled) await pause(delay);
        const early = readStartedAt + minReadIntervalMs - Date.now();
        if (early > 0 && !stopped && !hurry) {
          spacing = true;
          try {
            await pause(early);
          } finally {
            spacing = false;
          }
        }
      }
    } finally {
      unregister();
    }
  };

  const done = run();
  // `done` is for callers who want the failure; an unobserved rejection must not crash the process.
  done.catch(() => undefined);
  return {
    done,
    stop: async () => {
      stopped = true;
      interrupt?.();
      await done.catch(() => undefined);
    },
    readNow: () => {
      // Unlike wake(), this ends a spacing pause too, or skips the next one.
      signalled = true;
      hurry = true;
      interrupt?.();
    },
  };
}

/** Connection-level failures (server restart, network) are retried; anything else is a bug to surface. */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return error instanceof Error && /Connection terminated|connection timeout|timeout exceeded when trying to connect/i.test(error.message);
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code);
}
