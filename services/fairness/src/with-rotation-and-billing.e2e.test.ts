/**
 * Fairness with the real relay, rotation and billing processes (intake's part, recording
 * the approved lead and the request, is done by the test): levels come from rotation,
 * charges and wallets from billing, and billing's low-balance pauses reach the distribution.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, type CommandReply, type DistributionEventData } from '@fairlead/contracts';
import { request } from '@fairlead/messaging';
import type { ZodType } from 'zod';
import { SETUP_TIMEOUT_MS, startServiceProcesses, waitFor, type ServiceProcess } from '@fairlead/testing';
import { startHarness, type Harness } from './testing/harness';

let h: Harness;
const processes: ServiceProcess[] = [];

beforeAll(async () => {
  h = await startHarness('fairness_real', { standIns: false });
  const env = { DATABASE_URL: h.db.url, NATS_URL: h.natsUrl, NATS_NAMESPACE: h.subjects.namespace };
  processes.push(...(await startServiceProcesses(['rotation', 'billing'].map((name) => ({ service: name, env })))));
  await h.startService();
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  await Promise.allSettled(processes.map((p) => p.stop()));
  await h?.close();
});

async function call<S extends 'rotation' | 'billing', V extends keyof (typeof COMMANDS)[S] & string>(svc: S, verb: V, body: unknown): Promise<CommandReply<S, V>> {
  const entry = (COMMANDS[svc] as Record<string, { reply: ZodType }>)[verb]!;
  return (await request(h.nc, h.subjects.command(svc, verb), body, { responseSchema: entry.reply, timeoutMs: 10_000 })) as CommandReply<S, V>;
}
const balance = async (id: string) => (await call('billing', 'get_provider', { provider_id: id })).balance_cents;
const statusIn = async (subscriptionId: string) =>
  (await h.db.pool.query<{ status: string }>('select status from fairness.subscriptions where subscription_id = $1', [subscriptionId])).rows[0]?.status;

describe('fairness with the real rotation and billing services', () => {
  it('rotates start levels, charges through billing, and sees billing pause and resume a provider for its balance', async () => {
    await call('rotation', 'create_niche', { niche_id: 'r1', name: 'Movers', auto_distribute: true });
    for (const n of [1, 2]) {
      await call('rotation', 'add_level', { niche_id: 'r1', level_id: `r1-l${n}`, name: `Level ${n}`, order_position: n, max_recipients: 1, price_per_lead_cents: 1000 });
    }
    for (const [id, cents] of [['r1-a', 1_500], ['r1-b', 10_000], ['r1-c', 10_000]] as const) {
      await call('billing', 'register_provider', { provider_id: id, name: id, email: `${id}@example.com` });
      await call('billing', 'top_up', { provider_id: id, amount_cents: cents, reference: 'seed' });
    }
    const subA = (await h.subscribe({ provider_id: 'r1-a', niche_id: 'r1', level_id: 'r1-l1' })).subscription_id;
    await h.subscribe({ provider_id: 'r1-b', niche_id: 'r1', level_id: 'r1-l1' });
    await h.subscribe({ provider_id: 'r1-c', niche_id: 'r1', level_id: 'r1-l2' });

    // Lead 1 starts at level 1: a (never served, first by id) gets it in level 1, c in level 2.
    await h.approveLead('r1-lead-1', 'r1');
    const first = await h.waitForOutcome('r1-lead-1');
    expect(first).toMatchObject({ outcome: 'success', start_order_position: 1, traversal: ['r1-l1', 'r1-l2'] });
    expect(first.assignments.map((x) => [x.provider_id, x.level_id])).toEqual([
      ['r1-a', 'r1-l1'],
      ['r1-c', 'r1-l2'],
    ]);
    expect(await balance('r1-a')).toBe(500);
    expect(await balance('r1-c')).toBe(9_000);
    // 500 cents buy no lead at 1000: billing pauses a's subscription, and fairness sees it.
    await waitFor(async () => (await statusIn(subA)) === 'paused_low_balance', { what: 'the low-balance pause to reach fairness' });

    // Lead 2 starts at level 2: c again in level 2, and b in level 1, where a is paused.
    await h.approveLead('r1-lead-2', 'r1');
    const second = await h.waitForOutcome('r1-lead-2');
    expect(second).toMatchObject({ outcome: 'success', start_order_position: 2, traversal: ['r1-l2', 'r1-l1'] });
    expect(second.assignments.map((x) => [x.provider_id, x.level_id])).toEqual([
      ['r1-c', 'r1-l2'],
      ['r1-b', 'r1-l1'],
    ]);
    expect(second.skipped).toEqual(expect.arrayContaining([expect.objectContaining({ provider_id: 'r1-a', reason: 'status' })]));

    // A top-up that covers the price makes a active again; served before b, it comes first in level 1.
    await call('billing', 'top_up', { provider_id: 'r1-a', amount_cents: 2_000, reference: 'more' });
    await waitFor(async () => (await statusIn(subA)) === 'active', { what: 'the resumption to reach fairness' });
    await h.approveLead('r1-lead-3', 'r1');
    const third = await h.waitForOutcome('r1-lead-3');
    expect(third.start_order_position).toBe(1);
    expect(third.assignments.map((x) => [x.provider_id, x.level_id])).toEqual([
      ['r1-a', 'r1-l1'],
      ['r1-c', 'r1-l2'],
    ]);
    expect(await balance('r1-a')).toBe(1_500);
    const charged: DistributionEventData<'LeadAssigned'>[] = [];
    for (const id of ['r1-lead-1', 'r1-lead-2', 'r1-lead-3']) {
      charged.push(...(await h.leadEvents(id)).filter((e) => e.type === 'LeadAssigned').map((e) => e.data as DistributionEventData<'LeadAssigned'>));
    }
    // Every assignment carries the balance billing left, charge after charge.
    expect(charged.map((c) => [c.provider_id, c.balance_after_cents])).toEqual([
      ['r1-a', 500],
      ['r1-c', 9_000],
      ['r1-c', 8_000],
      ['r1-b', 9_000],
      ['r1-a', 1_500],
      ['r1-c', 7_000],
    ]);
  });

  it('a provider who cannot afford Gold may afford Bronze: declined in level 1, it is charged in level 2 for the same lead', async () => {
    await call('rotation', 'create_niche', { niche_id: 'r2', name: 'Roofing', auto_distribute: true });
    await call('rotation', 'add_level', { niche_id: 'r2', level_id: 'r2-l1', name: 'Gold', order_position: 1, max_recipients: 1, price_per_lead_cents: 5_000 });
    await call('rotation', 'add_level', { niche_id: 'r2', level_id: 'r2-l2', name: 'Bronze', order_position: 2, max_recipients: 1, price_per_lead_cents: 1_000 });
    for (const [id, cents] of [['r2-a', 2_000], ['r2-b', 10_000]] as const) {
      await call('billing', 'register_provider', { provider_id: id, name: id, email: `${id}@example.com` });
      await call('billing', 'top_up', { provider_id: id, amount_cents: cents, reference: 'seed' });
    }
    await h.subscribe({ provider_id: 'r2-a', niche_id: 'r2', level_id: 'r2-l1' });
    await h.subscribe({ provider_id: 'r2-a', niche_id: 'r2', level_id: 'r2-l2' });
    await h.subscribe({ provider_id: 'r2-b', niche_id: 'r2', level_id: 'r2-l2' });

    await h.approveLead('r2-lead-1', 'r2');
    const outcome = await h.waitForOutcome('r2-lead-1');
    // Declined at 5000 with 2000; in Bronze a ranks first (never served, then provider id) and pays 1000.
    expect(outcome).toMatchObject({ outcome: 'partial', traversal: ['r2-l1', 'r2-l2'] });
    expect(outcome.assignments.map((x) => [x.provider_id, x.level_id, x.price_cents])).toEqual([['r2-a', 'r2-l2', 1_000]]);
    expect(outcome.skipped.map((x) => [x.provider_id, x.level_id, x.reason])).toEqual([['r2-a', 'r2-l1', 'insufficient_balance']]);
    expect(await balance('r2-a')).toBe(1_000);
    expect(await balance('r2-b')).toBe(10_000);
  });
});
