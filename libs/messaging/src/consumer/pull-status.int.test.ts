import { startPrivateNats, testNatsUrl, waitFor } from '@fairlead/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { messagingFixture, type MessagingFixture, workConsumer } from '../test-support';
import { PULL_IDLE_HEARTBEAT_MS, runConsumer } from './runner';
import type { ConsumerRunner } from './types';

const Job = z.object({ id: z.string() });
type LogLine = { level: number; msg: string };

/** A runner of Jobs on `durable` in the fixture's work stream, logging into `lines`. */
function startRunner(f: MessagingFixture, durable: string, lines: LogLine[], handler: (job: z.output<typeof Job>) => Promise<void>): Promise<ConsumerRunner> {
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return runConsumer({
    ...workConsumer(f, durable),
    schema: Job,
    logger,
    handler,
  });
}

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
    const lines: LogLine[] = [];
    const durable = 'deleted';
    const runner = await startRunner(f, durable, lines, async () => undefined);
    runners.push(runner);
    // The runner's pull request waits at the server; deleting the consumer ends it with a 409.
    await waitFor(async () => (await f.jsm.consumers.info(f.subjects.streams.work, durable)).num_waiting > 0, { what: 'a waiting pull request' });
    await f.jsm.consumers.delete(f.subjects.streams.work, durable);
    await waitFor(() => lines.some((l) => l.level === 40 && l.msg.startsWith('pull request: consumer')), { what: 'a warning about the deleted consumer' });
    expect(lines.filter((l) => l.msg.startsWith('pull request:')).map((l) => l.msg)).toContain('pull request: consumer deleted');
  });

  it('a pull request the server no longer answers is noticed within a few seconds and pulled again, and consuming goes on', async () => {
    // A server of its own, stopped (SIGSTOP) for a while: no heartbeat, no message — as after nats-server 2.9.10
    // silently drops a request at its expiry. With nats.js' default heartbeat (15 s) nothing is noticed for 30 s.
    const server = await startPrivateNats();
    const own = await messagingFixture('pullsilent', server.url);
    const lines: LogLine[] = [];
    const handled: string[] = [];
    const durable = 'silent';
    const runner = await startRunner(own, durable, lines, async (job) => void handled.push(job.id));
    const pid = server.pid()!;
    try {
      await own.js.publish(`${own.subjects.work}.${durable}.a`, JSON.stringify({ id: 'a' }));
      await waitFor(() => handled.includes('a'), { what: 'the first job handled' });
      const stoppedAt = Date.now();
      process.kill(pid, 'SIGSTOP');
      try {
        await waitFor(() => lines.some((l) => l.level === 40 && l.msg.startsWith('no message and no heartbeat')), { what: 'the silent server noticed', timeoutMs: 10 * PULL_IDLE_HEARTBEAT_MS });
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      expect(Date.now() - stoppedAt).toBeLessThan(10 * PULL_IDLE_HEARTBEAT_MS);
      await own.js.publish(`${own.subjects.work}.${durable}.b`, JSON.stringify({ id: 'b' }));
      await waitFor(() => handled.includes('b'), { what: 'a job after the silence handled' });
      expect(handled).toEqual(['a', 'b']);
    } finally {
      await runner.stop();
      await own.dispose();
      await server.dispose();
    }
  });
});
