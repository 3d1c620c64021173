import { testNatsUrl, waitFor } from '@fairlead/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { messagingFixture, type MessagingFixture } from '../test-support';
import { runConsumer } from './runner';
import type { ConsumerRunner } from './types';

const Job = z.object({ id: z.string() });

describe('consumer runner: what the pull requests meet is in the log', () => {
  let f: MessagingFixture;
  const runners: ConsumerRunner[] = [];
  beforeAll(async () => {
    f = await messagingFixture('pullstatus', testNatsUrl());
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await f.dispose();
  });

  it('a consumer deleted under a running runner is warned about, not silent', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const durable = 'deleted';
    const runner = await runConsumer({
      js: f.js,
      jsm: f.jsm,
      stream: f.subjects.streams.work,
      durable,
      filterSubject: `${f.subjects.work}.${durable}.>`,
      schema: Job,
      deadLetter: { subjectFor: f.subjects.deadLetterSubject },
      logger,
      handler: async () => undefined,
    });
    runners.push(runner);
    // The runner's pull request waits at the server; deleting the consumer ends it with a 409.
    await waitFor(async () => (await f.jsm.consumers.info(f.subjects.streams.work, durable)).num_waiting > 0, { what: 'a waiting pull request' });
    await f.jsm.consumers.delete(f.subjects.streams.work, durable);
    await waitFor(() => lines.some((l) => l.level === 40 && l.msg.startsWith('pull request: consumer')), { what: 'a warning about the deleted consumer' });
    expect(lines.filter((l) => l.msg.startsWith('pull request:')).map((l) => l.msg)).toContain('pull request: consumer deleted');
  });
});
