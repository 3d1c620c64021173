/**
 * A message at the bus's limit still becomes a dead letter: the dead letter keeps the
 * start of the payload with its size and digest (the whole payload plus the DLQ headers
 * would not fit max_payload, and the publish failed, so the message came back forever and
 * never showed in the dead-letter list). Later messages are handled as usual.
 */
import { createHash } from 'node:crypto';
import { testNatsUrl, waitFor } from '@fairlead/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentError } from '../errors';
import { publishDurable } from '../publish';
import { messagingFixture, readStream, type MessagingFixture } from '../test-support';
import { DEAD_LETTER_LIMITS, readDeadLetter } from './dead-letter';
import { runConsumer } from './runner';
import type { ConsumerRunner } from './types';

const Job = z.object({ id: z.string(), pad: z.string().optional() });

describe('dead letters of messages at the bus’s limit', () => {
  let f: MessagingFixture;
  const runners: ConsumerRunner[] = [];
  const handled: string[] = [];
  beforeAll(async () => {
    f = await messagingFixture('dlqbounds', testNatsUrl());
    runners.push(
      await runConsumer({
        js: f.js,
        jsm: f.jsm,
        stream: f.subjects.streams.work,
        durable: 'bounded',
        filterSubject: `${f.subjects.work}.bounded.>`,
        schema: Job,
        backoffMs: [100],
        deadLetter: { subjectFor: f.subjects.deadLetterSubject },
        handler: async (job) => {
          if (job.id === 'refuse-1') throw new PermanentError('refused on purpose');
          handled.push(job.id);
        },
      }),
    );
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await f.dispose();
  });

  /** A payload whose message (headers included) is just under the server's max_payload. */
  const atTheLimit = (json: (pad: string) => string): Uint8Array => {
    const max = f.nc.info!.max_payload;
    const room = max - 512 - json('').length;
    return new TextEncoder().encode(json('x'.repeat(room)));
  };
  const deadLetterOf = async (subject: string) =>
    waitFor(async () => (await readStream(f.jsm, f.subjects.streams.deadLetters)).find((m) => m.subject === f.subjects.deadLetterSubject(subject)), {
      what: `the dead letter of ${subject}`,
      timeoutMs: 20_000,
    });

  it.each([
    ['malformed (fails its schema)', 'malformed', (pad: string) => JSON.stringify({ id: 42, pad })],
    ['refused by the handler', 'refuse', (pad: string) => JSON.stringify({ id: 'refuse-1', pad })],
    ['not JSON at all', 'garbage', (pad: string) => `{not json ${pad}`],
  ])('%s: recorded with the start of its payload, its size and digest; later messages are handled', async (_, key, json) => {
    const subject = f.subjects.workSubject('bounded', key);
    const data = atTheLimit(json);
    await publishDurable(f.js, subject, data, { msgID: `big-${key}`, headers: { 'X-Note': 'n'.repeat(200) } });
    await publishDurable(f.js, f.subjects.workSubject('bounded', `${key}-after`), { id: `${key}-after` }, { msgID: `after-${key}` });

    const dead = await deadLetterOf(subject);
    const info = readDeadLetter(dead.header)!;
    expect(info.payload).toEqual({ bytes: data.length, sha256: createHash('sha256').update(data).digest('hex'), truncated: true });
    expect([...dead.data]).toEqual([...data.subarray(0, DEAD_LETTER_LIMITS.prefixBytes)]);
    expect(dead.header.get('X-Note')).toBe('n'.repeat(200));
    await waitFor(async () => handled.includes(`${key}-after`), { what: 'the message after it' });
    // Acked once dead-lettered: nothing of it is left pending.
    await waitFor(async () => (await f.jsm.consumers.info(f.subjects.streams.work, 'bounded')).num_ack_pending === 0, { what: 'no pending acks' });
  });
});
