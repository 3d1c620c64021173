/**
 * The forged commands and events of issue 11, sent to the real services (each its own
 * process, each on the bus as its own identity) from identities that may not send them:
 * nats-server refuses each one before any service sees it, and nothing changes. The same
 * commands from the identity the table grants them to do work (the services run with
 * least privilege and still serve). Stream administration is refused to every identity
 * but admin.
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { PermissionViolationError, type NatsConnection } from '@nats-io/nats-core';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { BUS_IDENTITIES, COMMANDS, sendersOf, type BusIdentity, type CommandService } from '@fairlead/contracts';
import { drainAndClose, request } from '@fairlead/messaging';
import { testNatsConnection } from '@fairlead/testing';
import { startHttpSystem, type HttpSystem } from './http-system';

let system: HttpSystem;
const connections = new Map<BusIdentity, NatsConnection>();
let adminJsm: JetStreamManager;

beforeAll(async () => {
  system = await startHttpSystem('sec_bus', ['rotation', 'billing', 'fairness', 'intake']);
  for (const identity of BUS_IDENTITIES) connections.set(identity, await testNatsConnection({ identity, name: `forger-${identity}` }));
  adminJsm = await jetstreamManager(system.nc);
}, 300_000);
afterAll(async () => {
  for (const nc of connections.values()) await drainAndClose(nc).catch(() => undefined);
  await system?.close();
});

const as = (identity: BusIdentity) => connections.get(identity)!;
const send = (identity: BusIdentity, service: CommandService, verb: string, body: unknown) => {
  const reply = (COMMANDS[service] as Record<string, { reply: ZodType }>)[verb]!.reply;
  return request(as(identity), system.subjects.command(service, verb), body, { responseSchema: reply, timeoutMs: 15_000 });
};

/** The server refused the operation for lack of permission (not a timeout, not the service's answer). */
async function expectRefusedByServer(attempt: Promise<unknown>, what: string): Promise<void> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `${what} was accepted`).toBeDefined();
  const chain: unknown[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) chain.push(e);
  expect(
    chain.some((e) => e instanceof PermissionViolationError || /permissions violation/i.test((e as Error).message)),
    `${what}: expected a permission violation, got ${String(error)}`,
  ).toBe(true);
}

const otherThan = (...allowed: BusIdentity[]) => BUS_IDENTITIES.filter((id) => id !== 'admin' && !allowed.includes(id));

async function balanceOf(providerId: string): Promise<number> {
  const provider = (await send('operator-api', 'billing', 'get_provider', { provider_id: providerId })) as { balance_cents: number };
  return provider.balance_cents;
}

describe('forged commands', () => {
  let providerId: string;

  beforeAll(async () => {
    providerId = `forge-${randomUUID().slice(0, 8)}`;
    await send('operator-api', 'billing', 'register_provider', { provider_id: providerId, name: 'Rival Movers', email: 'rival@example.com' });
  });

  it('a top-up from the operator API works; the same top-up from any other identity is refused by the server and changes nothing', async () => {
    await send('operator-api', 'billing', 'top_up', { provider_id: providerId, amount_cents: 1_000, reference: 'real', actor: { actor_id: 'op@fairlead', actor_role: 'operator' } });
    expect(await balanceOf(providerId)).toBe(1_000);
    expect(sendersOf('billing', 'top_up')).toEqual(['operator-api']);
    for (const identity of otherThan('operator-api')) {
      await expectRefusedByServer(
        send(identity, 'billing', 'top_up', { provider_id: providerId, amount_cents: 5_000_000, reference: 'forged', actor: { actor_id: 'cfo@fairlead', actor_role: 'admin' } }),
        `top_up as ${identity}`,
      );
    }
    expect(await balanceOf(providerId)).toBe(1_000);
  });

  it('a charge from anyone but fairness is refused by the server; the balance stays', async () => {
    const charge = { provider_id: providerId, lead_id: `phantom-${randomUUID()}`, subscription_id: 'none', level_id: 'none', amount_cents: 900 };
    for (const identity of otherThan('fairness')) {
      for (const verb of ['charge', 'charge_many', 'charge_batch'] as const) {
        const body = verb === 'charge' ? charge : verb === 'charge_many' ? { lead_id: charge.lead_id, charges: [charge] } : { charges: [charge] };
        await expectRefusedByServer(send(identity, 'billing', verb, body), `${verb} as ${identity}`);
      }
    }
    expect(await balanceOf(providerId)).toBe(1_000);
  });

  it('pausing a subscription, claiming a rotation start level, approving a lead or requesting a distribution is refused to identities without the grant', async () => {
    const forged: Array<[CommandService, string, unknown]> = [
      ['fairness', 'set_subscription_status', { subscription_id: 'any', status: 'paused', actor: { actor_id: 'cfo@fairlead', actor_role: 'admin' } }],
      ['rotation', 'claim_start_level', { niche_id: 'any', lead_id: `phantom-${randomUUID()}` }],
      ['rotation', 'claim_start_levels', { niche_id: 'any', lead_ids: [`phantom-${randomUUID()}`] }],
      ['intake', 'request_distribution', { lead_id: `phantom-${randomUUID()}` }],
      ['intake', 'approve_lead', {}],
    ];
    for (const [service, verb, body] of forged) {
      const refusedTo = otherThan(...sendersOf(service, verb));
      expect(refusedTo.length, `${service}.${verb}`).toBeGreaterThan(0);
      for (const identity of refusedTo) await expectRefusedByServer(send(identity, service, verb, body), `${service}.${verb} as ${identity}`);
    }
  });

  it('the granted sender reaches the real service through its least-privilege identity (fairness claims a start level from rotation)', async () => {
    const nicheId = `forge-niche-${randomUUID().slice(0, 8)}`;
    await send('operator-api', 'rotation', 'create_niche', { niche_id: nicheId, name: 'Forge', auto_distribute: false });
    await send('operator-api', 'rotation', 'add_level', { niche_id: nicheId, level_id: `${nicheId}-gold`, name: 'Gold', order_position: 1, max_recipients: 1, price_per_lead_cents: 100, active: true });
    const claimed = (await send('fairness', 'rotation', 'claim_start_level', { niche_id: nicheId, lead_id: `lead-${randomUUID()}` })) as { start_order_position: number };
    expect(claimed.start_order_position).toBe(1);
  });
});

describe('forged events', () => {
  it('a LeadAssigned published straight to the events subject by anyone but the relay is refused by the server and never stored', async () => {
    const subject = system.subjects.eventSubject('lead', 'LeadAssigned');
    const forged = JSON.stringify({ event_id: randomUUID(), data: { provider_id: 'rival', lead_id: 'phantom', text: 'forged' } });
    for (const identity of otherThan('relay')) {
      const nc = as(identity);
      const refused = new Promise<string>((resolve) => {
        void (async () => {
          for await (const s of nc.status()) if (s.type === 'error' && s.error instanceof PermissionViolationError && s.error.subject === subject) return resolve(s.error.subject);
        })();
      });
      nc.publish(subject, forged);
      await nc.flush();
      expect(await refused, identity).toBe(subject);
    }
    const info = await adminJsm.streams.info(system.subjects.streams.events, { subjects_filter: subject });
    expect(info.state.subjects?.[subject] ?? 0).toBe(0);
  });
});

describe('stream administration', () => {
  it('is refused to every identity but admin: deleting, creating, purging streams and deleting consumers', async () => {
    const events = system.subjects.streams.events;
    for (const identity of otherThan()) {
      const jsm = await jetstreamManager(as(identity), { checkAPI: false });
      await expectRefusedByServer(jsm.streams.delete(events), `stream delete as ${identity}`);
      await expectRefusedByServer(jsm.streams.purge(events), `stream purge as ${identity}`);
      await expectRefusedByServer(jsm.streams.add({ name: `${system.subjects.namespace}_ROGUE`, subjects: [`${system.subjects.namespace}.rogue.>`] }), `stream create as ${identity}`);
      await expectRefusedByServer(jsm.consumers.delete(events, 'fairness-distribution'), `consumer delete as ${identity}`);
    }
    expect((await adminJsm.streams.info(events)).config.name).toBe(events);
    await expect(adminJsm.streams.info(`${system.subjects.namespace}_ROGUE`)).rejects.toThrow(/not found/i);
  });
});
