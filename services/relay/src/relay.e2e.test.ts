import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectsFor, type Subjects } from '@fairlead/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { connectNats, declareStreams, fairleadStreams } from '@fairlead/messaging';
import { createTestDatabase, startServiceProcess, testNamespace, testNatsUrl, waitFor, type ServiceProcess, type TestDatabase } from '@fairlead/testing';
import { appendMany, readAllMessages, streamMessageCount } from './test-support';

describe('relay process', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let subjects: Subjects;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('relay_e2e');
    store = createPostgresEventStore({ pool: db.pool });
    await store.migrate();
    nc = await connectNats({ servers: testNatsUrl(), name: 'relay-e2e' });
    jsm = await jetstreamManager(nc);
    subjects = subjectsFor(testNamespace('relaye2e'));
    await declareStreams(jsm, fairleadStreams(subjects));
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    for (const name of Object.values(subjects.streams)) await jsm.streams.delete(name).catch(() => undefined);
    await nc.close();
    await store.close();
    await db.drop();
  });

  const env = () => ({
    DATABASE_URL: db.url,
    NATS_URL: testNatsUrl(),
    NATS_NAMESPACE: subjects.namespace,
    RELAY_BATCH_SIZE: '50',
    RELAY_LOCK_KEY: String(Math.floor(Math.random() * 1e12)),
  });

  it('after kill -9 mid-stream and a restart, every event reaches NATS exactly once', async () => {
    const ids = await appendMany(store, { streams: 8, perStream: 2500, chunk: 100 });
    const relay = await startServiceProcess({ service: 'relay', env: env() });
    processes.push(relay);

    await waitFor(async () => (await streamMessageCount(jsm, subjects.streams.events)) >= 2000, { intervalMs: 5, what: 'relay to be mid-stream' });
    await relay.kill();
    const atKill = await streamMessageCount(jsm, subjects.streams.events);
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(ids.length);

    await relay.restart();
    await waitFor(async () => (await streamMessageCount(jsm, subjects.streams.events)) >= ids.length, { timeoutMs: 60_000, what: 'every event in JetStream' });
    const status = (await (await fetch(`http://127.0.0.1:${relay.port}/v1/relay/status`)).json()) as { leader: boolean };
    expect(status.leader).toBe(true);

    const messages = await readAllMessages(nc, subjects.streams.events);
    expect(messages).toHaveLength(ids.length);
    const seen = new Set(messages.map((m) => m.msgId));
    expect(seen.size).toBe(ids.length);
    expect(seen).toEqual(new Set(ids));
  });

  it('runs one leader at a time: a second relay process waits, then takes over when the leader is killed', async () => {
    const shared = env();
    const a = await startServiceProcess({ service: 'relay', env: shared });
    const b = await startServiceProcess({ service: 'relay', env: shared });
    processes.push(a, b);
    const leaderOf = async (p: ServiceProcess) => ((await (await fetch(`http://127.0.0.1:${p.port}/v1/relay/status`)).json()) as { leader: boolean }).leader;
    await waitFor(async () => (await leaderOf(a)) !== (await leaderOf(b)), { what: 'exactly one leader' });
    const [leader, follower] = (await leaderOf(a)) ? [a, b] : [b, a];

    const before = await streamMessageCount(jsm, subjects.streams.events);
    await leader.kill();
    const ids = await appendMany(store, { streams: 2, perStream: 100, category: 'after' });
    await waitFor(() => leaderOf(follower), { timeoutMs: 20_000, what: 'the follower to take over' });
    await waitFor(async () => (await streamMessageCount(jsm, subjects.streams.events)) >= before + ids.length, { what: 'new events relayed by the new leader' });
    expect(await streamMessageCount(jsm, subjects.streams.events)).toBe(before + ids.length);
  });

  it('a relay still waiting for leadership stops on Ctrl-C like any other: one stop, no stack trace', async () => {
    const shared = env();
    const leader = await startServiceProcess({ service: 'relay', env: shared });
    processes.push(leader);
    const waiting = await startServiceProcess({ service: 'relay', env: shared });
    const leaderOf = async (p: ServiceProcess) => ((await (await fetch(`http://127.0.0.1:${p.port}/v1/relay/status`)).json()) as { leader: boolean }).leader;
    await waitFor(async () => (await leaderOf(leader)) && !(await leaderOf(waiting)), { what: 'the second relay waiting' });
    await waiting.stop('SIGINT');
    expect(waiting.output()).not.toMatch(/leadership abandoned|^\s+at /m);
    expect(waiting.output()).not.toContain('relay leadership acquired');
  });

});

describe('relay process and PostgreSQL ending its connections', () => {
  // A database and namespace of its own: no other test's relay shares its connections.
  let db: TestDatabase;
  let store: PostgresEventStore;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let subjects: Subjects;
  let relay: ServiceProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('relay_idle_e2e');
    store = createPostgresEventStore({ pool: db.pool });
    await store.migrate();
    nc = await connectNats({ servers: testNatsUrl(), name: 'relay-idle-e2e' });
    jsm = await jetstreamManager(nc);
    subjects = subjectsFor(testNamespace('relayidle'));
    await declareStreams(jsm, fairleadStreams(subjects));
  });

  afterAll(async () => {
    await relay?.stop();
    for (const name of Object.values(subjects.streams)) await jsm.streams.delete(name).catch(() => undefined);
    await nc.close();
    await store.close();
    await db.drop();
  });

  it('an idle connection PostgreSQL ends (a restart, an administrator) is logged, not a crash: the relay goes on publishing', async () => {
    relay = await startServiceProcess({
      service: 'relay',
      env: { DATABASE_URL: db.url, NATS_URL: testNatsUrl(), NATS_NAMESPACE: subjects.namespace, RELAY_LOCK_KEY: String(Math.floor(Math.random() * 1e12)) },
    });
    const first = await appendMany(store, { streams: 1, perStream: 20, chunk: 20 });
    await waitFor(async () => (await streamMessageCount(jsm, subjects.streams.events)) >= first.length, { what: 'the first events relayed' });
    // The relay's idle pooled connections: not the leadership lock's (losing it ends the relay by
    // design), not the LISTEN connection of its subscription (the event store reconnects that one).
    const idle = `select a.pid from pg_stat_activity a
      where a.datname = current_database() and a.usename like '%relay%' and a.state = 'idle'
        and a.query not ilike 'listen%'
        and not exists (select 1 from pg_locks l where l.pid = a.pid and l.locktype = 'advisory')`;
    await waitFor(async () => (await db.pool.query(idle)).rowCount! > 0, { what: 'an idle pooled connection of the relay' });
    await db.pool.query(`select pg_terminate_backend(pid) from (${idle}) as x`);
    await waitFor(async () => relay!.output().includes('idle PostgreSQL connection failed'), { what: 'the relay to log the ended connection' });

    const before = await streamMessageCount(jsm, subjects.streams.events);
    const more = await appendMany(store, { streams: 1, perStream: 20, chunk: 20 });
    await waitFor(async () => (await streamMessageCount(jsm, subjects.streams.events)) >= before + more.length, { what: 'events after the ended connection relayed' });
    expect(relay.output()).not.toContain("Unhandled 'error' event");
    const ready = await fetch(`http://127.0.0.1:${relay.port}/readyz`).then((r) => r.status, (error: unknown) => `unreachable: ${String(error)}\n${relay!.output().slice(-3000)}`);
    expect(ready).toBe(200);
  });
});
