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
    readPage: async (from: Checkpoint, _batchSize: number, categories?: readonly string[]): Promise<GlobalPage> => {
      reads.push(Date.now());
      const after = events.filter((e) => e.globalPosition > from.globalPosition);
      const last = after.at(-1);
      // As read_page: the categories' events, the checkpoint past every event scanned.
      const mine = categories ? after.filter((e) => categories.includes(e.stream.split('-')[0]!)) : after;
      return { events: mine, checkpoint: last ? { transactionId: last.transactionId, globalPosition: last.globalPosition } : from, full: false, heldBack: false };
    },
    onWake: (w) => {
      wake = w;
      return () => (wake = undefined);
    },
    pollIntervalMs: 60_000,
    maxPollIntervalMs: 60_000,
    heldBackPollMs: 20,
    maxHeldBackPollMs: 250,
  };
  /** Appends an event to `stream` and notifies as the store does: naming its category, or (named: false) none; (lost: true) a NOTIFY that never came. */
  const append = (stream = 's-1', options: { named?: boolean; lost?: boolean } = {}) => {
    const n = BigInt(events.length + 1);
    events.push({ id: `e${n}`, stream, type: 'T', data: {}, metadata: {}, streamVersion: Number(n) - 1, globalPosition: n, transactionId: n, createdAt: new Date() });
    if (!options.lost) wake?.(options.named === false ? undefined : [stream.split('-')[0]!]);
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

describe('the slow poll of a quiet log', () => {
  /** The gaps between reads, in ms. */
  const gaps = (reads: number[]) => reads.slice(1).map((at, i) => at - reads[i]!);

  it('doubles while reads find nothing, up to maxPollIntervalMs', async () => {
    const log = fakeLog();
    log.deps.pollIntervalMs = 1_000;
    log.deps.maxPollIntervalMs = 10_000;
    const sub = startSubscription(log.deps, { from: START, handler: () => undefined });
    await vi.advanceTimersByTimeAsync(60_000);
    // Reads at 0, 1, 3, 7, 15, 25, 35, 45 and 55 s: nine in a minute, not sixty.
    expect(gaps(log.reads)).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000, 10_000]);
    await sub.stop();
  });

  it('starts over at pollIntervalMs after a notification, and after a poll that finds events', async () => {
    const log = fakeLog();
    log.deps.pollIntervalMs = 1_000;
    log.deps.maxPollIntervalMs = 10_000;
    const seen: bigint[] = [];
    const sub = startSubscription(log.deps, { from: START, handler: (e) => void seen.push(e.globalPosition) });
    await vi.advanceTimersByTimeAsync(25_000); // reads at 0, 1, 3, 7, 15 s; the next at 25 s
    expect(log.reads).toEqual([0, 1_000, 3_000, 7_000, 15_000, 25_000]);
    // A notified append is read at once, whatever the poll had grown to; the poll starts over.
    log.append();
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toEqual([1n]);
    await vi.advanceTimersByTimeAsync(3_000 - 1);
    expect(log.reads.slice(6)).toEqual([25_000, 26_000, 28_000]);
    // An append whose NOTIFY was lost is found by the poll, at most maxPollIntervalMs later; it starts over from there.
    await vi.advanceTimersByTimeAsync(12_500); // reads at 32 and 40 s; now 40.5 s, the next at 50 s
    expect(log.reads.slice(9)).toEqual([32_000, 40_000]);
    log.append('s-1', { lost: true });
    await vi.advanceTimersByTimeAsync(9_000);
    expect(seen).toEqual([1n]);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(seen).toEqual([1n, 2n]);
    expect(log.reads.slice(11)).toEqual([50_000, 51_000, 53_000]);
    await sub.stop();
  });

  it('does not grow on notifications of other categories, which wake nobody', async () => {
    const log = fakeLog();
    log.deps.pollIntervalMs = 1_000;
    log.deps.maxPollIntervalMs = 4_000;
    const sub = startSubscription(log.deps, { from: START, categories: ['subscription'], handler: () => undefined });
    for (let i = 0; i < 20; i++) {
      log.append(`lead-${i}`);
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(gaps(log.reads)).toEqual([1_000, 2_000, 4_000, 4_000, 4_000, 4_000]);
    await sub.stop();
  });
});
