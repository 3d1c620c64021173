/**
 * The subscription loop's wake-up rules, with a fake log and fake timers: a notification
 * while caught up triggers a read; with minReadIntervalMs, notifications that come sooner
 * than the interval after a read are answered by one read at the interval, never lost.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { START, type Checkpoint, type StoredEvent } from '../types';
import type { GlobalPage } from './read';
import { startSubscription, type SubscriptionDeps } from './subscribe';

function fakeLog() {
  const events: StoredEvent[] = [];
  let wake: ((categories?: readonly string[]) => void) | undefined;
  const reads: number[] = [];
  const deps: SubscriptionDeps = {
    readPage: async (from: Checkpoint): Promise<GlobalPage> => {
      reads.push(Date.now());
      const after = events.filter((e) => e.globalPosition > from.globalPosition);
      const last = after.at(-1);
      return { events: after, checkpoint: last ? { transactionId: last.transactionId, globalPosition: last.globalPosition } : from, full: false, heldBack: false };
    },
    onWake: (w) => {
      wake = w;
      return () => (wake = undefined);
    },
    pollIntervalMs: 60_000,
    heldBackPollMs: 20,
    maxHeldBackPollMs: 250,
  };
  /** Appends an event to `stream` and notifies as the store does: naming its category, or (named: false) none. */
  const append = (stream = 's-1', options: { named?: boolean } = {}) => {
    const n = BigInt(events.length + 1);
    events.push({ id: `e${n}`, stream, type: 'T', data: {}, metadata: {}, streamVersion: Number(n) - 1, globalPosition: n, transactionId: n, createdAt: new Date() });
    wake?.(options.named === false ? undefined : [stream.split('-')[0]!]);
  };
  return { deps, append, reads };
}

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

describe('subscription wake-ups', () => {
  it('reads once per notification without an interval', async () => {
    const log = fakeLog();
    const seen: bigint[] = [];
    const sub = startSubscription(log.deps, { from: START, handler: (e) => void seen.push(e.globalPosition) });
    await vi.advanceTimersByTimeAsync(1);
    for (let i = 0; i < 5; i++) {
      log.append();
      await vi.advanceTimersByTimeAsync(2);
    }
    expect(log.reads).toHaveLength(6);
    expect(seen).toEqual([1n, 2n, 3n, 4n, 5n]);
    await sub.stop();
  });

  it('is not woken by commits of other categories, and is by its own or by a commit that names none', async () => {
    const log = fakeLog();
    const sub = startSubscription(log.deps, { from: START, categories: ['subscription'], handler: () => undefined });
    await vi.advanceTimersByTimeAsync(1);
    expect(log.reads).toHaveLength(1);
    for (let i = 0; i < 5; i++) {
      log.append(`lead-${i}`);
      await vi.advanceTimersByTimeAsync(2);
    }
    expect(log.reads).toHaveLength(1);
    log.append('subscription-1');
    await vi.advanceTimersByTimeAsync(2);
    expect(log.reads).toHaveLength(2);
    log.append('lead-9', { named: false });
    await vi.advanceTimersByTimeAsync(2);
    expect(log.reads).toHaveLength(3);
    await sub.stop();
  });

  it('answers the notifications within minReadIntervalMs of a read with one read at the interval, and delivers everything', async () => {
    const log = fakeLog();
    const seen: bigint[] = [];
    const sub = startSubscription(log.deps, { from: START, minReadIntervalMs: 50, handler: (e) => void seen.push(e.globalPosition) });
    await vi.advanceTimersByTimeAsync(1);
    expect(log.reads).toEqual([0]);
    // Ten commits in 20 ms: one more read, 50 ms after the first started.
    for (let i = 0; i < 10; i++) {
      log.append();
      await vi.advanceTimersByTimeAsync(2);
    }
    expect(log.reads).toEqual([0]);
    await vi.advanceTimersByTimeAsync(40);
    expect(log.reads).toEqual([0, 50]);
    expect(seen).toHaveLength(10);
    // A commit long after the last read is read at once.
    await vi.advanceTimersByTimeAsync(200);
    const at = Date.now();
    log.append();
    await vi.advanceTimersByTimeAsync(1);
    expect(log.reads).toEqual([0, 50, at]);
    expect(seen).toHaveLength(11);
    await sub.stop();
  });

  it('reads a commit of an eager category at once, inside the spacing; the others wait for it', async () => {
    const log = fakeLog();
    const seen: string[] = [];
    const sub = startSubscription(log.deps, { from: START, minReadIntervalMs: 1_000, eagerCategories: ['provider'], handler: (e) => void seen.push(e.stream) });
    await vi.advanceTimersByTimeAsync(1);
    log.append('niche-1');
    await vi.advanceTimersByTimeAsync(5);
    expect(seen).toEqual([]); // spaced
    log.append('provider-1');
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toEqual(['niche-1', 'provider-1']);
    log.append('niche-2');
    await vi.advanceTimersByTimeAsync(5);
    expect(seen).toHaveLength(2); // spaced again
    log.append('niche-3', { named: false });
    await vi.advanceTimersByTimeAsync(5);
    expect(seen).toHaveLength(2); // a notification naming no category is not eager
    await vi.advanceTimersByTimeAsync(1_000);
    expect(seen).toEqual(['niche-1', 'provider-1', 'niche-2', 'niche-3']);
    await sub.stop();
  });

  it('reads at once on readNow(), inside the spacing, and after a read that was already running', async () => {
    const log = fakeLog();
    const seen: bigint[] = [];
    const sub = startSubscription(log.deps, { from: START, minReadIntervalMs: 10_000, handler: (e) => void seen.push(e.globalPosition) });
    await vi.advanceTimersByTimeAsync(1);
    log.append();
    await vi.advanceTimersByTimeAsync(5);
    expect(seen).toEqual([]); // a notification waits for the spacing
    sub.readNow();
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toEqual([1n]);
    // readNow() while a read runs (a slow page): one more read follows at once, not after the spacing.
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const readPage = log.deps.readPage;
    log.deps.readPage = async (...args) => {
      const page = readPage(...args); // what is stored when the read begins
      await slow;
      return page;
    };
    const readsBefore = log.reads.length;
    sub.readNow();
    await vi.advanceTimersByTimeAsync(1);
    expect(log.reads).toHaveLength(readsBefore + 1); // begun at once, 1 ms after the last read
    log.append(); // stored after that read began
    sub.readNow();
    log.deps.readPage = readPage;
    release();
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toEqual([1n, 2n]);
    await sub.stop();
  });

  it('stops while spacing reads', async () => {
    const log = fakeLog();
    const sub = startSubscription(log.deps, { from: START, minReadIntervalMs: 10_000, handler: () => undefined });
    await vi.advanceTimersByTimeAsync(1);
    log.append();
    await vi.advanceTimersByTimeAsync(1);
    await sub.stop();
    expect(log.reads).toEqual([0]);
  });
});
