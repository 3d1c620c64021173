import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { subjectsFor } from '@fairlead/contracts';
import { createTestDatabase, startPrivateNats, testNamespace, waitFor } from '@fairlead/testing';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { connectNats, drainAndClose } from './connection';
import { runConsumer } from './consumer/runner';
import { declareStreams } from './declarations';
import { fairleadStreams } from './fairlead-streams';
import { createInbox } from './inbox';
import { publishDurable } from './publish';
import { readStream } from './test-support';

const N = 400;
const Tick = z.object({ i: z.number().int() });

it('a nats-server restart mid-publish and mid-consume loses no acknowledged publish, stores none twice and applies each once', async () => {
  const nats = await startPrivateNats();
  const db = await createTestDatabase('restart');
  const subjects = subjectsFor(testNamespace('restart'));
  const nc = await connectNats({ servers: nats.url, name: 'restart-test', reconnectTimeWaitMs: 100 });
  try {
    const statuses: string[] = [];
    void (async () => {
      for await (const s of nc.status()) statuses.push(s.type);
    })();
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await declareStreams(jsm, fairleadStreams(subjects));
    const inbox = createInbox(db.pool);
    await inbox.migrate();
    await db.pool.query('create table applied (message_id text not null, i int not null)');

    let skipped = 0;
    const runner = await runConsumer({
      js,
      jsm,
      stream: subjects.streams.events,
      durable: 'applier',
      filterSubject: `${subjects.events}.>`,
      schema: Tick,
      keyOf: (t) => String(t.i % 4),
      concurrency: 4,
      ackWaitMs: 1_000,
      backoffMs: [100, 200, 400, 800, 1_600],
      deadLetter: { subjectFor: subjects.deadLetterSubject },
      handler: async (tick, ctx) => {
        const result = await inbox.once('applier', ctx.messageId, (client) =>
          client.query('insert into applied (message_id, i) values ($1, $2)', [ctx.messageId, tick.i]),
        );
        if (!result.applied) skipped++;
      },
    });

    const acked: string[] = [];
    let duplicates = 0;
    let retries = 0;
    // Counts the publisher's retries from its log (informational: timing decides how many).
    const publishLog = pino({ level: 'warn' }, { write: (line: string) => void (line.includes('retrying') && retries++) });
    const publishing = (async () => {
      for (let i = 0; i < N; i++) {
        const msgID = `tick-${i}`;
        const ack = await publishDurable(js, subjects.eventSubject('clock', 'Ticked'), { i }, { msgID, timeoutMs: 150, retry: { maxElapsedMs: 30_000 }, logger: publishLog });
        if (ack.duplicate) duplicates++;
        acked.push(msgID);
        // Paces the publisher so the restart lands in the middle of the stream.
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const appliedCount = async () => Number((await db.pool.query('select count(*) from applied')).rows[0].count);

    await waitFor(async () => acked.length >= N / 4 && (await appliedCount()) > 0, { what: 'publishing and consuming under way' });
    await nats.restart();
    const ackedAtRestart = acked.length;
    await publishing;

    await waitFor(async () => (await appliedCount()) === N, { what: `all ${N} applied`, timeoutMs: 30_000 });
    await waitFor(async () => {
      const info = await jsm.consumers.info(subjects.streams.events, 'applier');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, { what: 'consumer caught up and every message acked' });
    await runner.stop();

    // The restart really hit the middle of the run.
    expect(ackedAtRestart).toBeLessThan(N);
    expect(statuses).toEqual(expect.arrayContaining(['disconnect', 'reconnect']));

    // Every acknowledged publish is in the stream exactly once.
    expect(acked).toHaveLength(N);
    const stored = await readStream(jsm, subjects.streams.events);
    const storedIds = stored.map((m) => m.header.get('Nats-Msg-Id'));
    expect(storedIds).toHaveLength(N);
    expect(new Set(storedIds)).toEqual(new Set(acked));

    // Every message applied exactly once.
    const { rows } = await db.pool.query<{ total: string; distinct_ids: string }>(
      'select count(*) as total, count(distinct message_id) as distinct_ids from applied',
    );
    expect(rows[0]).toEqual({ total: String(N), distinct_ids: String(N) });
    expect(runner.stats()).toMatchObject({ processed: N + skipped, deadLettered: 0, inFlight: 0 });
    console.info(`restart: ${ackedAtRestart}/${N} acked before it, ${retries} publish attempts retried, ${duplicates} found already stored, ${skipped} redeliveries skipped by the inbox`);
  } finally {
    await drainAndClose(nc).catch(() => undefined);
    await nats.dispose();
    await db.drop();
  }
});
