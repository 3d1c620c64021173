/**
 * The bus authorizes every connection (issue 11, "the bus is open"): nats-server refuses
 * anonymous and unknown connections, and enforces the permission table of
 * libs/contracts/src/bus-permissions.ts. The walk is generated from the table itself (every
 * subject any identity may use, made concrete, plus the administration subjects), so a new
 * command, consumer or identity is covered without touching this file: each identity
 * publishes to and subscribes to every one of them, and exactly the subjects the table
 * grants get through, every other one is refused by the server.
 */
import { PermissionViolationError, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allows, BUS_IDENTITIES, COMMANDS, inboxPrefixOf, renderBusPermissions, subjectsFor, type BusIdentity, type CommandService } from '@fairlead/contracts';
import { createNkeyIdentity, publicKeyOfSeed } from '@fairlead/messaging';
import { testNamespace, testNatsConnection, testNatsUrl, testSeed, waitFor } from '@fairlead/testing';

const subjects = subjectsFor(testNamespace('bus_walk'));
let keys: Record<BusIdentity, string>;
/** What the test server was configured with (any namespace), so the expectation is the server's own table. */
let server: ReturnType<typeof renderBusPermissions>;
let candidates: string[];
let observer: NatsConnection;

/** A pattern made concrete: `*` and `>` become tokens of our own. */
const concrete = (pattern: string) =>
  pattern
    .split('.')
    .map((t) => (t === '>' ? 'walk.end' : t === '*' ? 'walk' : t))
    .join('.');

beforeAll(async () => {
  keys = Object.fromEntries(BUS_IDENTITIES.map((id) => [id, publicKeyOfSeed(testSeed(id))])) as Record<BusIdentity, string>;
  const inboxPrefix = (id: BusIdentity) => inboxPrefixOf(keys[id]);
  server = renderBusPermissions({ namespace: '*', inboxPrefix });
  const ours = renderBusPermissions({ namespace: subjects.namespace, inboxPrefix });
  const fromTable = BUS_IDENTITIES.filter((id) => id !== 'admin').flatMap((id) => [...ours[id].publish, ...ours[id].subscribe].map(concrete));
  const streams = Object.values(subjects.streams);
  const administration = streams.flatMap((s) => ['CREATE', 'UPDATE', 'DELETE', 'PURGE'].map((op) => `$JS.API.STREAM.${op}.${s}`));
  const foreignConsumers = streams.flatMap((s) => [`$JS.API.CONSUMER.DELETE.${s}.fairness-distribution`, `$JS.API.CONSUMER.CREATE.${s}.rogue`, `$JS.API.CONSUMER.DURABLE.CREATE.${s}.rogue`, `$JS.API.CONSUMER.MSG.NEXT.${s}.rogue`]);
  const commands = (Object.entries(COMMANDS) as [CommandService, object][]).flatMap(([service, verbs]) => Object.keys(verbs).map((verb) => subjects.command(service, verb)));
  const events = [subjects.eventSubject('lead', 'LeadAssigned'), subjects.eventSubject('lead', 'DistributionRequested'), subjects.eventSubject('subscription', 'SubscriptionStatusChanged')];
  const others = [subjects.control('other'), subjects.workSubject('kind', 'key'), `${subjects.commands}.unknown.verb`, '_INBOX.walk', 'walk.anything'];
  candidates = [...new Set([...fromTable, ...administration, ...foreignConsumers, ...commands, ...events, ...others])].sort();
  observer = await testNatsConnection({ identity: 'admin', name: 'walk-observer' });
}, 120_000);

afterAll(async () => {
  await observer?.close();
});

/** Permission violations the server reported to a connection, by operation. */
function violations(nc: NatsConnection): { publish: Set<string>; subscription: Set<string> } {
  const seen = { publish: new Set<string>(), subscription: new Set<string>() };
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'error' && status.error instanceof PermissionViolationError) {
        (status.error.operation === 'publish' ? seen.publish : seen.subscription).add(status.error.subject);
      }
    }
  })();
  return seen;
}

describe('who may connect', () => {
  it('refuses a connection without credentials', async () => {
    await expect(connect({ servers: testNatsUrl(), reconnect: false, timeout: 5_000 })).rejects.toThrow(/Authorization Violation/i);
  });

  it('refuses an nkey the server does not know', async () => {
    const stranger = createNkeyIdentity();
    const { connectNats } = await import('@fairlead/messaging');
    await expect(connectNats({ servers: testNatsUrl(), name: 'stranger', credentials: { nkeySeed: stranger.seed }, waitOnFirstConnect: false, timeoutMs: 5_000 })).rejects.toThrow(/Authorization Violation/i);
  });
});

describe.each(BUS_IDENTITIES.filter((id) => id !== 'admin'))('the permission table, as %s', (identity) => {
  it('publishes exactly what the table grants; the server refuses the rest', async () => {
    const nc = await testNatsConnection({ identity, name: `walk-pub-${identity}` });
    const refused = violations(nc).publish;
    const marker = `walk-${identity}-${Math.random()}`;
    const arrived = new Set<string>();
    const subs = candidates.map((subject) => observer.subscribe(subject, {
        callback: (_err, msg) => {
          if (msg?.string() === marker) arrived.add(subject);
        },
      }));
    try {
      await observer.flush();
      for (const subject of candidates) nc.publish(subject, marker);
      await nc.flush();
      const allowed = candidates.filter((s) => allows(server[identity].publish, s));
      const forbidden = candidates.filter((s) => !allows(server[identity].publish, s));
      expect(forbidden.length).toBeGreaterThan(0);
      await waitFor(() => allowed.every((s) => arrived.has(s)) && forbidden.every((s) => refused.has(s)), {
        what: `${identity}: allowed publishes to arrive and forbidden ones to be refused (missing: ${JSON.stringify({ notArrived: allowed.filter((s) => !arrived.has(s)), notRefused: forbidden.filter((s) => !refused.has(s)) })})`,
      });
      await observer.flush();
      expect([...arrived].sort()).toEqual(allowed);
      expect([...refused].filter((s) => candidates.includes(s)).sort()).toEqual(forbidden);
    } finally {
      for (const sub of subs) sub.unsubscribe();
      await nc.close();
    }
  });

  it('subscribes to exactly what the table grants; the server refuses the rest', async () => {
    const nc = await testNatsConnection({ identity, name: `walk-sub-${identity}` });
    const marker = `walk-sub-${identity}-${Math.random()}`;
    const got = new Set<string>();
    const refused = new Set<string>();
    for (const subject of candidates) {
      nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err instanceof PermissionViolationError) refused.add(subject);
          else if (msg?.string() === marker) got.add(subject);
        },
      });
    }
    try {
      await nc.flush();
      const allowed = candidates.filter((s) => allows(server[identity].subscribe, s));
      const forbidden = candidates.filter((s) => !allows(server[identity].subscribe, s));
      await waitFor(() => forbidden.every((s) => refused.has(s)), { what: `${identity}: forbidden subscriptions refused (${forbidden.filter((s) => !refused.has(s)).join(', ')})` });
      for (const subject of candidates) observer.publish(subject, marker);
      await observer.flush();
      await waitFor(() => allowed.every((s) => got.has(s)), { what: `${identity}: messages on allowed subscriptions (${allowed.filter((s) => !got.has(s)).join(', ')})` });
      expect([...got].sort()).toEqual(allowed);
      expect([...refused].sort()).toEqual(forbidden);
    } finally {
      await nc.close();
    }
  });
});
