import type { Msg, Subscription } from '@nats-io/nats-core';
import { testNatsUrl, waitFor } from '@fairlead/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { publishDurable } from '../publish';
import { gate, messagingFixture, type MessagingFixture, workConsumer } from '../test-support';
import { runConsumer } from './runner';
import type { ConsumerRunner, RunConsumerOptions } from './types';

const Item = z.object({ n: z.number().int() });

/**
 * What a runner sends the server per message: each message on the bus is a wake-up of
 * nats-server and of the client, so the runner sends as few as its guarantees allow.
 */
describe('consumer runner: messages to the server', () => {
  let f: MessagingFixture;
  beforeAll(async () => {
    f = await messagingFixture('traffic', testNatsUrl());
  });
  afterAll(async () => {
    await f.dispose();
  });

  /** Every message the server routes on `subject` (a wildcard), as seen from the fixture's connection. */
  const watch = async (subject: string): Promise<{ seen: Msg[]; sub: Subscription }> => {
    const seen: Msg[] = [];
    const sub = f.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (!err) seen.push(msg);
      },
    });
    await f.nc.flush();
    return { seen, sub };
  };

  /** A runner of the Item messages published under `durable` (workSubject(durable, …)). */
  const itemRunner = (durable: string, options: Pick<RunConsumerOptions<typeof Item>, 'handler' | 'maxAckPending'>): Promise<ConsumerRunner> =>
    runConsumer({
      ...workConsumer(f, durable),
      schema: Item,
      ...options,
    });

  it('acks without asking for a confirmation while running, and confirms the acks of stop(), after which none is pending', async () => {
    const durable = 'acks';
    const acks = await watch(`$JS.ACK.${f.subjects.streams.work}.${durable}.>`);
    const release = gate();
    const lastStarted = gate();
    const runner = await itemRunner(durable, {
      handler: async ({ n }) => {
        if (n < 3) return;
        lastStarted.open();
        await release.promise;
      },
    });
    for (let n = 0; n < 3; n++) await publishDurable(f.js, f.subjects.workSubject('acks', 'k'), { n }, { msgID: `acks-${n}` });
    await waitFor(() => acks.seen.length === 3, { what: 'three acks' });
    // Plain acks: one message each, no reply subject for the server to answer.
    expect(acks.seen.map((m) => [new TextDecoder().decode(m.data), m.reply ?? ''])).toEqual([
      ['+ACK', ''],
      ['+ACK', ''],
      ['+ACK', ''],
    ]);

    await publishDurable(f.js, f.subjects.workSubject('acks', 'k'), { n: 3 }, { msgID: 'acks-3' });
    await lastStarted.promise;
    const stopping = runner.stop();
    release.open();
    await stopping;
    // The message finished while stopping was acked with a reply, and stop() waited for it.
    await waitFor(() => acks.seen.length === 4, { what: 'the fourth ack' });
    expect(acks.seen[3]!.reply).toBeTruthy();
    const info = await f.jsm.consumers.info(f.subjects.streams.work, durable);
    expect(info.num_ack_pending).toBe(0);
    expect(info.ack_floor.stream_seq).toBe(info.delivered.stream_seq);
    expect(runner.stats()).toMatchObject({ processed: 4, retried: 0 });
    acks.sub.unsubscribe();
  });

  it('sends an ack still waiting to go with others at stop(), confirmed', async () => {
    const durable = 'waiting-ack';
    const acks = await watch(`$JS.ACK.${f.subjects.streams.work}.${durable}.>`);
    let stopped: Promise<void> | undefined;
    const runner = await itemRunner(durable, {
      // stop() comes right after the handler, before the ack would have left on its own.
      handler: async () => void setImmediate(() => (stopped = runner.stop())),
    });
    await publishDurable(f.js, f.subjects.workSubject(durable, 'k'), { n: 0 }, { msgID: 'waiting-0' });
    await waitFor(() => stopped !== undefined, { what: 'stop() called' });
    await stopped;
    expect(runner.stats()).toMatchObject({ processed: 1 });
    const info = await f.jsm.consumers.info(f.subjects.streams.work, durable);
    expect(info.num_ack_pending).toBe(0);
    await waitFor(() => acks.seen.length === 1, { what: 'the ack' });
    expect(acks.seen[0]!.reply).toBeTruthy();
    acks.sub.unsubscribe();
  });

  it('asks for messages with few pull requests: one for 4 × max_ack_pending, the next after 3 × max_ack_pending have come', async () => {
    const durable = 'pulls';
    const pulls = await watch(`$JS.API.CONSUMER.MSG.NEXT.${f.subjects.streams.work}.${durable}`);
    let handled = 0;
    const runner = await itemRunner(durable, {
      maxAckPending: 4,
      handler: async () => void handled++,
    });
    await waitFor(() => pulls.seen.length === 1, { what: 'the first pull request' });
    // 11 messages, one at a time: fewer than 3 × 4 have come, so no second request.
    for (let n = 0; n < 11; n++) {
      await publishDurable(f.js, f.subjects.workSubject('pulls', 'k'), { n }, { msgID: `pulls-${n}` });
      await waitFor(() => handled === n + 1, { what: `message ${n} handled` });
    }
    await f.nc.flush();
    expect(pulls.seen).toHaveLength(1);
    expect(JSON.parse(new TextDecoder().decode(pulls.seen[0]!.data))).toMatchObject({ batch: 16 });
    // The 12th brings the count waiting on the server down to 4: one request for 12 more.
    await publishDurable(f.js, f.subjects.workSubject('pulls', 'k'), { n: 11 }, { msgID: 'pulls-11' });
    await waitFor(() => pulls.seen.length === 2, { what: 'the second pull request' });
    expect(JSON.parse(new TextDecoder().decode(pulls.seen[1]!.data))).toMatchObject({ batch: 12 });
    await runner.stop();
    expect(handled).toBe(12);
    pulls.sub.unsubscribe();
  });
});
