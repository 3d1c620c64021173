/** Small helpers of the contract suite (no dependency on the test infrastructure package). */
import { randomBytes, randomUUID } from 'node:crypto';
import { START, type Checkpoint, type EventStore, type NewEvent, type StoredEvent, type Subscription } from '../types';

/** A category no other test uses, so each test filters its own events out of the shared log. */
export const uniqueCategory = (label = 'c'): string => `${label}${randomBytes(5).toString('hex')}`;

export const newEvent = (type = 'Tested', data: unknown = { n: 1 }, metadata?: Record<string, unknown>): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  ...(metadata ? { metadata } : {}),
});

export const events = (count: number, type = 'Tested'): NewEvent[] => Array.from({ length: count }, (_, n) => newEvent(type, { n }));

/** Polls until the probe holds; for waiting on a subscriber to reach a count, never a fixed sleep. */
export async function eventually<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const compareCheckpoints = (a: Checkpoint, b: Checkpoint): number =>
  a.transactionId !== b.transactionId ? (a.transactionId < b.transactionId ? -1 : 1) : a.globalPosition < b.globalPosition ? -1 : a.globalPosition > b.globalPosition ? 1 : 0;

export const checkpointOf = (event: StoredEvent): Checkpoint => ({ transactionId: event.transactionId, globalPosition: event.globalPosition });

/** Reads the global log from a checkpoint to its current end, in batches. */
export async function readToEnd(
  store: EventStore,
  from: Checkpoint = START,
  batchSize = 500,
  categories?: readonly string[],
): Promise<{ events: StoredEvent[]; checkpoint: Checkpoint; batches: number[] }> {
  const all: StoredEvent[] = [];
  const batches: number[] = [];
  let checkpoint = from;
  for (;;) {
    const batch = await store.readAll(checkpoint, batchSize, categories ? { categories } : undefined);
    if (batch.events.length === 0 && compareCheckpoints(batch.checkpoint, checkpoint) === 0) return { events: all, checkpoint, batches };
    batches.push(batch.events.length);
    all.push(...batch.events);
    checkpoint = batch.checkpoint;
  }
}

/** A live subscriber that records what it receives. */
export function collect(store: EventStore, options: { from?: Checkpoint; categories?: readonly string[]; batchSize?: number } = {}) {
  const received: StoredEvent[] = [];
  const subscription: Subscription = store.subscribe({
    from: options.from ?? START,
    categories: options.categories,
    batchSize: options.batchSize,
    handler: (event) => {
      received.push(event);
    },
  });
  return {
    received,
    subscription,
    ids: () => received.map((e) => e.id),
    waitForCount: (count: number, what = `${count} events`) => eventually(() => received.length >= count, what),
  };
}

/** The ids that occur more than once. */
export function duplicates(list: readonly StoredEvent[]): string[] {
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const event of list) {
    if (seen.has(event.id)) twice.push(event.id);
    seen.add(event.id);
  }
  return twice;
}
