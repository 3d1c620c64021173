import { testNatsUrl, waitFor } from '@fairlead/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { publishDurable } from '../publish';
import { messagingFixture, type MessagingFixture, workConsumer } from '../test-support';
import { runConsumer } from './runner';
import type { ConsumerRunner, MessageContext, RunConsumerOptions } from './types';

const Job = z.object({ id: z.string() });
const ACK_WAIT_MS = 800;

describe('consumer runner: keeping long handlers alive', () => {
  let f: MessagingFixture;
  const runners: ConsumerRunner[] = [];
  beforeAll(async () => {
    f = await messagingFixture('hb', testNatsUrl());
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await f.dispose();
  });

  const consumerInfo = (durable: string) => f.jsm.consumers.info(f.subjects.streams.work, durable);

  async function start(
    durable: string,
    heartbeat: RunConsumerOptions<typeof Job>['heartbeat'],
    handler: (ctx: MessageContext) => Promise<void>,
  ): Promise<{ runner: ConsumerRunner; calls: number[] }> {
    const calls: number[] = [];
    const runner = await runConsumer({
      ...workConsumer(f, durable),
      schema: Job,
      ackWaitMs: ACK_WAIT_MS,
      backoffMs: [50],
      heartbeat,
      handler: async (_job, ctx) => {
        calls.push(ctx.attempt);
        await handler(ctx);
      },
    });
    runners.push(runner);
    await publishDurable(f.js, f.subjects.workSubject(durable, 'x'), { id: durable }, { msgID: durable });
    return { runner, calls };
  }

  // A handler that works for three ack-wait periods; before it returns, the server must
  // still hold the message as delivered once and never redelivered.
  const longWork = (durable: string, beat?: (ctx: MessageContext) => void) => async (ctx: MessageContext) => {
    const until = Date.now() + 3 * ACK_WAIT_MS;
    while (Date.now() < until) {
      beat?.(ctx);
      await new Promise((r) => setTimeout(r, ACK_WAIT_MS / 4));
    }
    const info = await consumerInfo(durable);
    expect(info.num_redelivered).toBe(0);
    expect(info.num_ack_pending).toBe(1);
  };

  it('automatic heartbeats (default) and ctx.working() each keep a handler alive past ackWait without redelivery', async () => {
    const auto = await start('auto', 'auto', longWork('auto'));
    const manual = await start('manual', 'manual', longWork('manual', (ctx) => ctx.working()));
    await waitFor(() => auto.runner.stats().processed === 1 && manual.runner.stats().processed === 1, { what: 'both handled' });
    expect(auto.calls).toEqual([1]);
    expect(manual.calls).toEqual([1]);
    expect(auto.runner.stats()).toMatchObject({ retried: 0, deadLettered: 0 });
    expect((await consumerInfo('auto')).num_ack_pending).toBe(0);
  });

  it('without heartbeats the server does redeliver after ackWait (the control); the runner still handles it once', async () => {
    const { runner, calls } = await start('silent', 'manual', async () => {
      await waitFor(async () => (await consumerInfo('silent')).num_redelivered > 0, { what: 'a redelivery', timeoutMs: 10 * ACK_WAIT_MS });
    });
    await waitFor(() => runner.stats().processed === 1, { what: 'handled' });
    // The redelivery arrived while the first delivery was running: absorbed, acked once.
    expect(calls).toEqual([1]);
    await waitFor(async () => (await f.jsm.streams.info(f.subjects.streams.work)).state.messages === 0, { what: 'acked out of the queue' });
  });
});
