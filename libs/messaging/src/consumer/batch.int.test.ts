import { testNatsUrl, waitFor } from '@fairlead/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentError } from '../errors';
import { publishDurable } from '../publish';
import { gate, messagingFixture, type MessagingFixture, readStream, workConsumer } from '../test-support';
import { readDeadLetter } from './dead-letter';
import { runConsumer } from './runner';
import type { ConsumerRunner, RunConsumerOptions } from './types';

const Job = z.object({ key: z.string(), n: z.number().int() });

describe('consumer runner: batches of one key', () => {
  let f: MessagingFixture;
  const runners: ConsumerRunner[] = [];
  beforeAll(async () => {
    f = await messagingFixture('batch', testNatsUrl());
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await f.dispose();
  });

  it('hands a key’s waiting messages over together, in delivery order, at most max at a time, never two batches of a key at once', async () => {
    const firstHeld = gate();
    const batches: string[][] = [];
    const running = new Set<string>();
    let overlap = false;
    const runner = await runConsumer({
      js: f.js,
      jsm: f.jsm,
      stream: f.subjects.streams.work,
      durable: 'batched',
      filterSubject: `${f.subjects.work}.batch.>`,
      schema: Job,
      keyOf: (job) => job.key,
      concurrency: 2,
      maxAckPending: 64,
      deadLetter: { subjectFor: f.subjects.deadLetterSubject },
      batch: {
        max: 3,
        handler: async (items) => {
          const key = items[0]!.message.key;
          if (running.has(key)) overlap = true;
          running.add(key);
          batches.push(items.map(({ message }) => `${message.key}${message.n}`));
          // The first batch of 'a' waits until everything else has arrived and queued behind it.
          if (key === 'a' && items[0]!.message.n === 0) await firstHeld.promise;
          running.delete(key);
          return items.map(() => undefined);
        },
      },
    });
    runners.push(runner);

    await publishDurable(f.js, f.subjects.workSubject('batch', 'x'), { key: 'a', n: 0 }, { msgID: 'a-0' });
    await waitFor(() => batches.length === 1, { what: 'the first batch running' });
    for (let n = 1; n <= 5; n++) await publishDurable(f.js, f.subjects.workSubject('batch', 'x'), { key: 'a', n }, { msgID: `a-${n}` });
    await waitFor(() => runner.stats().waiting === 5, { what: 'five of a waiting' });
    firstHeld.open();
    await waitFor(() => runner.stats().processed === 6, { what: 'all handled' });

    expect(batches).toEqual([['a0'], ['a1', 'a2', 'a3'], ['a4', 'a5']]);
    expect(overlap).toBe(false);
    expect(runner.stats()).toMatchObject({ processed: 6, retried: 0, deadLettered: 0, inFlight: 0, waiting: 0 });
  });

  it('settles each message by its own outcome: ack, retry with the attempt’s delay, or dead letter', async () => {
    const held = gate();
    const seen: { n: number; attempt: number }[] = [];
    const runner = await runConsumer({
      js: f.js,
      jsm: f.jsm,
      stream: f.subjects.streams.work,
      durable: 'batched-outcomes',
      filterSubject: `${f.subjects.work}.outcome.>`,
      schema: Job,
      keyOf: (job) => job.key,
      backoffMs: [50],
      deadLetter: { subjectFor: f.subjects.deadLetterSubject },
      batch: {
        max: 10,
        handler: async (items) => {
          for (const { message, ctx } of items) seen.push({ n: message.n, attempt: ctx.attempt });
          if (items[0]!.message.n === 0) await held.promise;
          return items.map(({ message, ctx }) => {
            if (message.n === 2 && ctx.attempt === 1) return new Error('billing is away');
            if (message.n === 3) return new PermanentError('lead is not approved');
            return undefined;
          });
        },
      },
    });
    runners.push(runner);

    const subject = f.subjects.workSubject('outcome', 'x');
    await publishDurable(f.js, subject, { key: 'k', n: 0 }, { msgID: 'o-0' });
    await waitFor(() => seen.length === 1, { what: 'the first batch running' });
    for (let n = 1; n <= 4; n++) await publishDurable(f.js, subject, { key: 'k', n }, { msgID: `o-${n}` });
    await waitFor(() => runner.stats().waiting === 4, { what: 'four waiting' });
    held.open();
    await waitFor(() => runner.stats().processed === 4 && runner.stats().deadLettered === 1, { what: 'all settled' });

    // 1..4 came as one batch; 2 failed once and came back alone on its second attempt.
    expect(seen).toEqual([
      { n: 0, attempt: 1 },
      { n: 1, attempt: 1 },
      { n: 2, attempt: 1 },
      { n: 3, attempt: 1 },
      { n: 4, attempt: 1 },
      { n: 2, attempt: 2 },
    ]);
    expect(runner.stats()).toMatchObject({ processed: 4, retried: 1, deadLettered: 1 });
    const dead = (await readStream(f.jsm, f.subjects.streams.deadLetters)).filter((m) => m.subject === f.subjects.deadLetterSubject(subject));
    expect(dead.map((m) => Job.parse(m.json()).n)).toEqual([3]);
    expect(readDeadLetter(dead[0]!.header)).toMatchObject({ reason: 'permanent', error: 'lead is not approved', attempts: 1 });
  });

  /** A runner of the Job messages published under `durable`, keyed by job.key. */
  async function jobRunner(durable: string, options: Pick<RunConsumerOptions<typeof Job>, 'concurrency' | 'batch'>): Promise<ConsumerRunner> {
    const runner = await runConsumer({
      ...workConsumer(f, durable),
      schema: Job,
      keyOf: (job) => job.key,
      ...options,
    });
    runners.push(runner);
    return runner;
  }

  it('with gatherMs, a batch goes as soon as it is full instead of waiting out the window', async () => {
    const batches: string[][] = [];
    const durable = 'gather-full';
    await jobRunner(durable, {
      concurrency: 1,
      // A window far longer than the test's wait: only a full batch can go in time.
      batch: { max: 3, gatherMs: 60_000, handler: async (items) => (batches.push(items.map(({ message }) => `${message.key}${message.n}`)), items.map(() => undefined)) },
    });
    const subject = f.subjects.workSubject(durable, 'x');
    for (let n = 0; n < 3; n++) await publishDurable(f.js, subject, { key: 'f', n }, { msgID: `${durable}-${n}` });
    await waitFor(() => batches.length === 1, { what: 'the full batch handled', timeoutMs: 10_000 });
    expect(batches).toEqual([['f0', 'f1', 'f2']]);
  });

  it.each([
    ['with gatherMs, waits for the rest of a burst: four messages published one after another go as one batch', 200, [['g0', 'g1', 'g2', 'g3']]],
    ['without it, the first message of a burst goes alone', undefined, [['g0'], ['g1', 'g2', 'g3']]],
  ])('%s', async (_, gatherMs, expected) => {
    const batches: string[][] = [];
    const held = gate();
    const durable = `gather-${gatherMs ?? 'none'}`;
    const runner = await jobRunner(durable, {
      concurrency: 2,
      batch: {
        max: 10,
        ...(gatherMs === undefined ? {} : { gatherMs }),
        handler: async (items) => {
          batches.push(items.map(({ message }) => `${message.key}${message.n}`));
          // The first batch holds the key until the whole burst has arrived.
          if (batches.length === 1) await held.promise;
          return items.map(() => undefined);
        },
      },
    });
    const subject = f.subjects.workSubject(durable, 'x');
    for (let n = 0; n < 4; n++) await publishDurable(f.js, subject, { key: 'g', n }, { msgID: `${durable}-${n}` });
    await waitFor(() => batches.length === 1 && runner.stats().inFlight + runner.stats().waiting >= 1, { what: 'the first batch running' });
    await waitFor(() => batches.flat().length + runner.stats().waiting === 4, { what: 'the whole burst received' });
    held.open();
    await waitFor(() => runner.stats().processed === 4, { what: 'all handled' });
    expect(batches).toEqual(expected);
  });

  it('refuses options with both a handler and a batch, or neither', async () => {
    const base = {
      js: f.js,
      jsm: f.jsm,
      stream: f.subjects.streams.work,
      durable: 'invalid',
      filterSubject: `${f.subjects.work}.invalid.>`,
      schema: Job,
      deadLetter: { subjectFor: f.subjects.deadLetterSubject },
    };
    await expect(runConsumer(base)).rejects.toThrow(/exactly one of handler and batch/);
    await expect(runConsumer({ ...base, handler: async () => undefined, batch: { max: 2, handler: async () => [] } })).rejects.toThrow(/exactly one/);
  });
});
