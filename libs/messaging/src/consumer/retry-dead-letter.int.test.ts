import { testNatsUrl, waitFor } from '@fairlead/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentError } from '../errors';
import { publishDurable } from '../publish';
import { messagingFixture, readStream, type MessagingFixture } from '../test-support';
import { DeadLetterHeaders, readDeadLetter } from './dead-letter';
import { runConsumer } from './runner';
import type { ConsumerRunner } from './types';

const Job = z.object({ id: z.string(), amount: z.number().int() });

describe('consumer runner: retries and dead letters', () => {
  let f: MessagingFixture;
  const runners: ConsumerRunner[] = [];
  beforeAll(async () => {
    f = await messagingFixture('retry', testNatsUrl());
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await f.dispose();
  });

  const deadLetters = async (originalSubject: string) =>
    (await readStream(f.jsm, f.subjects.streams.deadLetters)).filter((m) => m.subject === f.subjects.deadLetterSubject(originalSubject));

  it('naks with each attempt’s delay in order, then dead-letters after the last attempt with payload, headers and failure details', async () => {
    const backoffMs = [150, 300, 600];
    const attempts: { attempt: number; at: number }[] = [];
    const subject = f.subjects.workSubject('retry', 'job-1');
    const runner = await runConsumer({
      js: f.js,
      jsm: f.jsm,
      stream: f.subjects.streams.work,
      durable: 'retrying',
      filterSubject: `${f.subjects.work}.retry.>`,
      schema: Job,
      backoffMs,
      deadLetter: { subjectFor: f.subjects.deadLetterSubject },
      handler: async (_job, ctx) => {
        attempts.push({ attempt: ctx.attempt, at: performance.now() });
        throw new Error(`downstream unavailable (attempt ${ctx.attempt})`);
      },
    });
    runners.push(runner);
    const published = await publishDurable(f.js, subject, { id: 'job-1', amount: 5 }, { msgID: 'job-1', headers: { 'Fairlead-Tenant': 't-9' } });

    const [dead] = await waitFor(async () => ((await deadLetters(subject)).length > 0 ? deadLetters(subject) : undefined), { what: 'the dead letter' });
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    // Each retry came no sooner than its delay (the server may be later, never earlier;
    // 10 ms of slack for timer granularity).
    attempts.slice(1).forEach((a, i) => expect(a.at - attempts[i]!.at).toBeGreaterThanOrEqual(backoffMs[i]! - 10));

    expect(dead!.json()).toEqual({ id: 'job-1', amount: 5 });
    expect(dead!.header.get('Fairlead-Tenant')).toBe('t-9');
    const info = readDeadLetter(dead!.header)!;
    expect(info).toMatchObject({
      reason: 'exhausted',
      error: 'downstream unavailable (attempt 4)',
      attempts: 4,
      originalSubject: subject,
      originalStream: f.subjects.streams.work,
      originalSequence: published.seq,
      originalMsgId: 'job-1',
      consumer: 'retrying',
    });
    expect(info.lastFailureAt.getTime() - info.firstFailureAt.getTime()).toBeGreaterThanOrEqual(150 + 300 + 600 - 30);

    // Acked out of the work queue, and counted.
    await waitFor(async () => (await f.jsm.streams.info(f.subjects.streams.work)).state.messages === 0, { what: 'work queue empty' });
    expect(runner.stats()).toMatchObject({ processed: 0, retried: 3, deadLettered: 1, inFlight: 0 });
  });

  it('dead-letters malformed JSON and schema-invalid messages at once with the reasons, while later good messages flow', async () => {
    const subject = f.subjects.workSubject('mixed', 'k');
    const handled: unknown[] = [];
    const runner = await runConsumer({
      js: f.js,
      jsm: f.jsm,
      stream: f.subjects.streams.work,
      durable: 'mixed',
      filterSubject: `${f.subjects.work}.mixed.>`,
      schema: Job,
      backoffMs: [50],
      deadLetter: { subjectFor: f.subjects.deadLetterSubject },
      handler: async (job) => {
        handled.push(job);
      },
    });
    runners.push(runner);
    // All on one subject (one key): a bad message must not hold up the ones behind it.
    await publishDurable(f.js, subject, new TextEncoder().encode('{"id": "broken'), { msgID: 'bad-json' });
    await publishDurable(f.js, subject, { id: 'no-amount', amount: 'ten' }, { msgID: 'bad-schema' });
    await publishDurable(f.js, subject, { id: 'good-1', amount: 1 }, { msgID: 'good-1' });
    await publishDurable(f.js, subject, { id: 'good-2', amount: 2 }, { msgID: 'good-2' });

    await waitFor(() => handled.length === 2 && runner.stats().deadLettered === 2, { what: 'good handled, bad dead-lettered' });
    expect(handled).toEqual([
      { id: 'good-1', amount: 1 },
      { id: 'good-2', amount: 2 },
    ]);
    const dead = await deadLetters(subject);
    const byId = new Map(dead.map((m) => [m.header.get(DeadLetterHeaders.OriginalMsgId), m]));
    const badJson = byId.get('bad-json')!;
    expect(badJson.string()).toBe('{"id": "broken');
    expect(readDeadLetter(badJson.header)).toMatchObject({ reason: 'malformed', attempts: 1 });
    expect(readDeadLetter(badJson.header)?.error).toMatch(/not valid UTF-8 JSON/);
    const badSchema = readDeadLetter(byId.get('bad-schema')!.header)!;
    expect(badSchema).toMatchObject({ reason: 'malformed', error: 'message does not match its schema', attempts: 1 });
    expect(badSchema.issues).toEqual([expect.objectContaining({ path: ['amount'], code: 'invalid_type' })]);
    expect(runner.stats()).toMatchObject({ processed: 2, malformed: 2, deadLettered: 2, retried: 0 });
  });

  it('dead-letters a PermanentError on its first attempt without retrying', async () => {
    const subject = f.subjects.workSubject('permanent', 'p');
    let calls = 0;
    const runner = await runConsumer({
      js: f.js,
      jsm: f.jsm,
      stream: f.subjects.streams.work,
      durable: 'permanent',
      filterSubject: `${f.subjects.work}.permanent.>`,
      schema: Job,
      backoffMs: [50, 50, 50],
      deadLetter: { subjectFor: f.subjects.deadLetterSubject },
      handler: async () => {
        calls++;
        throw new PermanentError('niche does not exist', { code: 'NICHE_NOT_FOUND' });
      },
    });
    runners.push(runner);
    await publishDurable(f.js, subject, { id: 'p-1', amount: 1 }, { msgID: 'p-1' });
    const [dead] = await waitFor(async () => ((await deadLetters(subject)).length > 0 ? deadLetters(subject) : undefined), { what: 'the dead letter' });
    expect(readDeadLetter(dead!.header)).toMatchObject({ reason: 'permanent', error: 'niche does not exist', attempts: 1 });
    expect(calls).toBe(1);
    expect(runner.stats()).toMatchObject({ retried: 0, deadLettered: 1 });
  });
});
