/**
 * Micro-benchmark of an event's way over NATS: appended to the event store, published by
 * the relay to JetStream, pulled and acked by consumers (runConsumer), at a paced rate as
 * in bench:distribution's fixed-rate phase (batches of one or two, where every message is a
 * wake-up of its own). PERF_LEADS "leads" at PERF_RATE a second, each one append of
 * PERF_EVENTS events to a stream of its own; two consumers (on separate connections, as
 * separate services): one takes every event of the category, one a single event type (one
 * event per lead). The relay has a connection of its own too.
 *
 * Measured per lead, over the paced phase (after a warm-up), in PERF_ROUNDS rounds:
 * - messages the nats-server routed: /varz in_msgs and out_msgs of a nats-server started for
 *   the benchmark alone (with `-m`), so no other test's traffic is in it;
 * - CPU ms (user + system, /proc/<pid>/stat) and voluntary context switches (/proc/<pid>/task/
 *   (star)/status: every wake-up of a thread) of that nats-server;
 * - CPU ms of this node process (process.cpuUsage: relay, consumers and the appends) and of
 *   the database's PostgreSQL backends (/proc);
 * - relay batches (one pipelined write of publishes each).
 * PERF_MIX=lead gives the events the sizes of a lead's in bench:distribution (of 16: three
 * ~6.8 KB ProvidersSelected, a ~1.2 KB lead payload, a ~1 KB traversal, the rest ~350 bytes;
 * ~27 KB a lead); by default every event's data is ~230 bytes.
 * PERF_RELAY_ONLY=1 runs no consumers (node's CPU is then the relay's and the appends').
 * PERF_ACK_PER_PAGE=0 runs the relay with one ack per event (as before one ack per page), to compare.
 * PERF_TRAFFIC=1 adds a breakdown by kind of message (a `>` subscription, which costs the
 * server a copy of each: a run of its own, not to compare CPU with).
 *
 *   npx vitest run -c services/relay/perf/vitest.config.ts
 *   PERF_RATE=12 PERF_LEADS=300 npx vitest run -c services/relay/perf/vitest.config.ts
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { RelayedEvent, subjectsFor, type Subjects } from '@fairlead/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { freePort, startNatsServer, type RunningNats } from '@fairlead/local-servers';
import { connectNats, declareStreams, drainAndClose, fairleadStreams, runConsumer, type ConsumerRunner } from '@fairlead/messaging';
import { createTestDatabase, testNamespace, testSeed, waitFor, type TestDatabase } from '@fairlead/testing';
import { backendCpuDelta, backendCpuMs, processCpuMs } from '@fairlead/testing/perf';
import { startRelay, type RunningRelay } from '../src/relay';

const LEADS = Number(process.env.PERF_LEADS ?? 400);
const RATE = Number(process.env.PERF_RATE ?? 40);
const EVENTS = Number(process.env.PERF_EVENTS ?? 4);
const ROUNDS = Number(process.env.PERF_ROUNDS ?? 3);
const TRAFFIC = process.env.PERF_TRAFFIC === '1';
const ACK_PER_PAGE = process.env.PERF_ACK_PER_PAGE !== '0';
const RELAY_ONLY = process.env.PERF_RELAY_ONLY === '1';
const MIX = process.env.PERF_MIX ?? 'small';
const WARMUP = 40;
const CATEGORY = 'perflead';

/** Data of a lead's e-th event: PERF_MIX=lead as in bench:distribution (see above), else ~230 bytes. */
function eventData(lead: number, e: number): unknown {
  if (MIX !== 'lead') return { lead, e, note: 'x'.repeat(200) };
  const id = () => randomUUID();
  const at = new Date().toISOString();
  switch (e % 16) {
    case 5:
    case 8:
    case 11:
      // ProvidersSelected: 50 candidates.
      return {
        lead_id: id(),
        level_id: id(),
        order_position: e,
        round: 0,
        candidates: Array.from({ length: 50 }, (_, i) => ({ provider_id: id(), subscription_id: id(), last_received_at: i % 5 ? at : null })),
        excluded: [{ provider_id: id(), subscription_id: id(), reason: 'budget_exhausted' }],
        picks: [{ provider_id: id(), subscription_id: id(), price_cents: 1250 }],
      };
    case 0:
      return { lead_id: id(), niche_id: id(), received_via: 'nats', reasons: ['new'], payload: { name: 'Zoë Müller', email: 'zoe@example.com', phone: '+49 30 1234567', zip: '10115', answers: Array.from({ length: 12 }, (_, i) => ({ q: `question_${i}`, a: `answer number ${i} with some words` })) } };
    case 2:
      return { lead_id: id(), niche_id: id(), request_id: id(), attempt: 1, start_order_position: 0, traversal: Array.from({ length: 6 }, (_, i) => ({ level_id: id(), name: `Level ${i}`, order_position: i, price_cents: 1000 + i })), started_at: at };
    default:
      return { lead_id: id(), niche_id: id(), provider_id: id(), subscription_id: id(), order_position: e, price_cents: 1250, at, lead };
  }
}

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

let dir: string;
let nats: RunningNats;
let monitorPort: number;
let db: TestDatabase;
let store: PostgresEventStore;
let subjects: Subjects;
const connections: NatsConnection[] = [];
let relay: RunningRelay | undefined;
const consumers: ConsumerRunner[] = [];

const connect = async (name: string) => {
  const nc = await connectNats({ servers: nats.url, name, credentials: { nkeySeed: testSeed('admin') } });
  connections.push(nc);
  return nc;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fairlead-relay-perf-'));
  monitorPort = await freePort();
  nats = await startNatsServer({ port: await freePort(), storeDir: dir, extraArgs: ['-c', inject('natsServerConfig'), '-m', String(monitorPort)] });
  db = await createTestDatabase('relay_perf');
  db.pool.on('error', () => undefined);
  store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  subjects = subjectsFor(testNamespace('relay_perf'));
  const admin = await connect('perf-admin');
  await declareStreams(await jetstreamManager(admin), fairleadStreams(subjects));
});

afterAll(async () => {
  await relay?.stop();
  for (const c of consumers) await c.stop();
  for (const nc of connections) await drainAndClose(nc);
  await store?.close();
  await db?.drop();
  await nats?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Varz {
  in_msgs: number;
  out_msgs: number;
}
const varz = async (): Promise<Varz> => (await (await fetch(`http://127.0.0.1:${monitorPort}/varz`)).json()) as Varz;

/** Voluntary context switches of every thread of a process so far. */
async function voluntarySwitches(pid: number): Promise<number> {
  let sum = 0;
  for (const task of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const status = await readFile(`/proc/${pid}/task/${task}/status`, 'utf8').catch(() => '');
    sum += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return sum;
}

/** Messages by kind as a `>` subscriber sees them. */
function countTraffic(nc: NatsConnection): { stop(): Map<string, number> } {
  const counts = new Map<string, number>();
  const kindOf = (subject: string) => {
    const s = subject.startsWith(`${subjects.namespace}.`) ? subject.slice(subjects.namespace.length + 1) : subject;
    if (s.startsWith('_INBOX.')) return '_INBOX (publish acks, ack confirmations)';
    if (s.startsWith('$JS.ACK.')) return '$JS.ACK (consumer acks)';
    if (s.startsWith('$JS.API.CONSUMER.MSG.NEXT.')) return '$JS.API pull requests';
    if (s.startsWith('fairlead.events.')) return 'relayed events (published, and delivered to a pull request)';
    return s.split('.').slice(0, 3).join('.');
  };
  const sub: Subscription = nc.subscribe('>', {
    callback: (err, msg) => {
      if (!err) counts.set(kindOf(msg.subject), (counts.get(kindOf(msg.subject)) ?? 0) + 1);
    },
  });
  return {
    stop: () => {
      sub.unsubscribe();
      return counts;
    },
  };
}

it(`relay → JetStream → consumers: ${LEADS} leads of ${EVENTS} events at ${RATE}/s`, async () => {
  const received = { all: 0, one: 0 };
  const relayNc = await connect('perf-relay');
  relay = await startRelay({ store, pool: db.pool, js: jetstream(relayNc), subjects, logger, ackPerPage: ACK_PER_PAGE });
  const consumed = [
    ['perf_all', `${subjects.events}.${CATEGORY}.>`, 'all'],
    ['perf_one', subjects.eventSubject(CATEGORY, 'Event0'), 'one'],
  ] as const;
  for (const [name, filter, counter] of RELAY_ONLY ? [] : consumed) {
    const nc = await connect(`perf-${name}`);
    consumers.push(
      await runConsumer({
        js: jetstream(nc),
        jsm: await jetstreamManager(nc),
        stream: subjects.streams.events,
        durable: name,
        filterSubject: filter,
        schema: RelayedEvent,
        keyOf: (m) => m.stream,
        concurrency: 4,
        handler: async () => void received[counter]++,
        deadLetter: { subjectFor: (s) => subjects.deadLetterSubject(s) },
        logger,
      }),
    );
  }

  let lead = 0;
  const paced = async (n: number) => {
    const start = performance.now();
    const target = { all: received.all + n * EVENTS, one: received.one + n };
    const relayed = relay!.status().published + n * EVENTS;
    for (let i = 0; i < n; i++, lead++) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await store.append(
        `${CATEGORY}-${lead}`,
        Array.from({ length: EVENTS }, (_, e) => ({ id: randomUUID(), type: `Event${e}`, data: eventData(lead, e) })),
        'no_stream',
      );
    }
    await waitFor(() => (RELAY_ONLY ? relay!.status().published >= relayed : received.all >= target.all && received.one >= target.one), { what: 'every event consumed', timeoutMs: 60_000 });
    // The last acks reach the server.
    await new Promise((r) => setTimeout(r, 300));
  };

  await paced(WARMUP);
  const pid = nats.pid()!;
  const totals = { leads: 0, in: 0, out: 0, natsCpu: 0, natsSwitches: 0, node: 0, pg: 0 as number | undefined, batches: 0 };
  const perRound = Math.ceil(LEADS / ROUNDS);
  const rounds: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const v0 = await varz();
    const n0 = (await processCpuMs(pid))!;
    const s0 = await voluntarySwitches(pid);
    const pg0 = await backendCpuMs(db.pool);
    const b0 = relay.status().batches;
    const c0 = process.cpuUsage();
    await paced(perRound);
    const c = process.cpuUsage(c0);
    const batches = relay.status().batches - b0;
    const pgMs = backendCpuDelta(pg0, await backendCpuMs(db.pool));
    const switches = (await voluntarySwitches(pid)) - s0;
    const natsCpu = (await processCpuMs(pid))! - n0;
    const v = await varz();
    const r = { in: v.in_msgs - v0.in_msgs, out: v.out_msgs - v0.out_msgs, natsCpu, switches, node: (c.user + c.system) / 1000, pg: pgMs };
    totals.leads += perRound;
    totals.in += r.in;
    totals.out += r.out;
    totals.natsCpu += natsCpu;
    totals.natsSwitches += switches;
    totals.node += r.node;
    totals.pg = totals.pg === undefined || pgMs === undefined ? undefined : totals.pg + pgMs;
    totals.batches += batches;
    const per = (x: number) => (x / perRound).toFixed(2);
    rounds.push(
      `  round ${round + 1}: in ${per(r.in)} out ${per(r.out)} msgs/lead; nats-server ${per(natsCpu)} CPU-ms, ${per(switches)} vol. switches/lead; node ${per(r.node)} CPU-ms/lead; relay ${per(batches)} batches/lead`,
    );
  }

  let traffic: Map<string, number> | undefined;
  if (TRAFFIC) {
    const counter = countTraffic(await connect('perf-traffic'));
    await paced(perRound);
    traffic = counter.stop();
  }

  // What the relay sent: the events stream's bytes (bodies, headers, subjects) per event published.
  const streamState = (await (await jetstreamManager(relayNc)).streams.info(subjects.streams.events)).state;
  const L = totals.leads;
  const f = (x: number) => (x / L).toFixed(2);
  const lines = [
    `relay → JetStream → 2 consumers: ${L} leads of ${EVENTS} events (${EVENTS + 1} deliveries, mix ${MIX}) at ${RATE} leads/s, ${ROUNDS} rounds, ${ACK_PER_PAGE ? 'one ack per page' : 'one ack per event'}`,
    `  events stream: ${(streamState.bytes / streamState.messages).toFixed(0)} bytes per message stored (${(((streamState.bytes / streamState.messages) * EVENTS) / 1024).toFixed(1)} KiB per lead)`,
    `  nats-server messages per lead: in ${f(totals.in)}, out ${f(totals.out)} (/varz)`,
    `  nats-server: ${f(totals.natsCpu)} CPU-ms per lead, ${f(totals.natsSwitches)} voluntary context switches per lead`,
    `  node (relay + consumers + appends): ${f(totals.node)} CPU-ms per lead`,
    `  PostgreSQL backends: ${totals.pg === undefined ? 'n/a' : `${f(totals.pg)} CPU-ms per lead`}`,
    `  relay batches per lead: ${f(totals.batches)}; pages with one ack ${relay.status().pagesWithOneAck}, fallbacks ${relay.status().pageFallbacks} (whole run)`,
    ...rounds,
    ...(traffic ? [`  by kind (a \`>\` subscriber, ${perRound} more leads):`, ...[...traffic].sort((a, b) => b[1] - a[1]).map(([k, n]) => `    ${(n / perRound).toFixed(2)}/lead  ${k}`)] : []),
  ];
  console.log(lines.join('\n'));
  expect(RELAY_ONLY ? relay.status().published : received.one).toBe(RELAY_ONLY ? lead * EVENTS : lead);
  if (!RELAY_ONLY) expect(received.all).toBe(lead * EVENTS);
});
