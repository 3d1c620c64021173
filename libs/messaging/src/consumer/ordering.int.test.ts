import { testNatsUrl, waitFor } from '@fairlead/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { publishDurable } from '../publish';
import { gate, messagingFixture, type MessagingFixture } from '../test-support';
import { runConsumer } from './runner';

const Step = z.object({ key: z.string(), n: z.number().int() });

describe('consumer runner: per-key order, parallel keys, graceful stop', () => {
  let f: MessagingFixture;
  beforeAll(async () => {
    f = await messagingFixture('order', testNatsUrl());
  });
  afterAll(async () => {
    await f.dispose();
  });

  it('handles one key strictly in sequence while different keys overlap, never above the concurrency', async () => {
    const keys = ['a', 'b', 'c'];
    const perKey = 6;
    const intervals: { key: string; n: number; start: number; end: number }[] = [];
    const started = new Set<string>();
    let running = 0;
    let maxRunning = 0;
    const runner = await runConsumer({
      js: f.js,
      jsm: f.jsm,
      stream: f.subjects.streams.work,
      durable: 'ordered',
      filterSubject: `${f.subjects.work}.order.>`,
      schema: Step,
      keyOf: (step) => step.key,
      concurrency: 2,
      deadLetter: { subjectFor: f.subjects.deadLetterSubject },
      handler: async ({ key, n }) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        const start = performance.now();
        started.add(key);
        if (n === 0 && key !== 'c') {
          // The first 'a' waits until a 'b' has started and vice versa: this finishes only
          // if two keys really run at the same time (a sequential runner would time out).
          await waitFor(() => started.has(key === 'a' ? 'b' : 'a'), { what: 'the other key running', timeoutMs: 5_000 });
        }
        await new Promise((r) => setTimeout(r, 5));
        intervals.push({ key, n, start, end: performance.now() });
        running--;
      },
    });

    // One subject for all: the order comes from keyOf, interleaved a0 b0 c0 a1 b1 c1 ...
    for (let n = 0; n < perKey; n++) {
      for (const key of keys) await publishDurable(f.js, f.subjects.workSubject('order', 'all'), { key, n }, { msgID: `${key}-${n}` });
    }
    await waitFor(() => runner.stats().processed === keys.length * perKey, { what: 'all handled' });
    await runner.stop();

    for (const key of keys) {
      const mine = intervals.filter((i) => i.key === key);
      expect(mine.map((i) => i.n)).toEqual([0, 1, 2, 3, 4, 5]);
      mine.slice(1).forEach((i, idx) => expect(i.start).toBeGreaterThanOrEqual(mine[idx]!.end));
    }
    const a0 = intervals.find((i) => i.key === 'a' && i.n === 0)!;
    const b0 = intervals.find((i) => i.key === 'b' && i.n === 0)!;
    expect(a0.start < b0.end && b0.start < a0.end).toBe(true);
    expect(maxRunning).toBe(2);
    expect(runner.stats()).toMatchObject({ inFlight: 0, waiting: 0, retried: 0 });
  });

  it('stop() stops fetching and resolves once the running and the already received messages are handled and acked', async () => {
    const subject = f.subjects.workSubject('stop', 'one-key');
    const release = gate();
    const firstStarted = gate();
    const handledByFirst: number[] = [];
    const first = await runConsumer({
      js: f.js,
      jsm: f.jsm,
      stream: f.subjects.streams.work,
      durable: 'stopping',
      filterSubject: `${f.subjects.work}.stop.>`,
      schema: Step,
      deadLetter: { subjectFor: f.subjects.deadLetterSubject },
      handler: async ({ n }) => {
        firstStarted.open();
        await release.promise;
        handledByFirst.push(n);
      },
    });
    for (let n = 0; n < 3; n++) await publishDurable(f.js, subject, { key: 'k', n }, { msgID: `stop-${n}` });
    await firstStarted.promise;
    await waitFor(() => first.stats().waiting === 2, { what: 'two messages waiting behind the running one' });

    let stopped = false;
    const stopping = first.stop().then(() => (stopped = true));
    // Published after stop(): must stay in the stream for the next runner.
    await publishDurable(f.js, subject, { key: 'k', n: 3 }, { msgID: 'stop-3' });
    expect(stopped).toBe(false);
    release.open();
    await stopping;
    expect(handledByFirst).toEqual([0, 1, 2]);
    expect(first.stats()).toMatchObject({ processed: 3, inFlight: 0, waiting: 0 });
    const info = await f.jsm.consumers.info(f.subjects.streams.work, 'stopping');
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(1);

    const handledBySecond: number[] = [];
    const second = await runConsumer({
      js: f.js,
      jsm: f.jsm,
      stream: f.subjects.streams.work,
      durable: 'stopping',
      filterSubject: `${f.subjects.work}.stop.>`,
      schema: Step,
      deadLetter: { subjectFor: f.subjects.deadLetterSubject },
      handler: async ({ n }) => {
        handledBySecond.push(n);
      },
    });
    await waitFor(() => handledBySecond.length === 1, { what: 'the message published after stop handled by the next runner' });
    await second.stop();
    expect(handledBySecond).toEqual([3]);
    expect((await f.jsm.streams.info(f.subjects.streams.work)).state.messages).toBe(0);
  });
});
