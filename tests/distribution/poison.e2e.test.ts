/**
 * Issue 10, "nothing sent from outside may stop the pipeline", end to end: every service
 * is its own process; bad input arrives the way an upstream system or an operator sends
 * it (lead.approved on JetStream, NATS commands, the operator API over HTTP), and every
 * case is followed by ordinary leads that must still be distributed.
 *
 * Before: a ~1 MB lead was stored whole, the relay could not publish it and no later event
 * was ever relayed; a deeply nested or unstorable lead was retried for minutes; a top-up
 * past 2^53 or a price past 2^31 stopped read models for good while /readyz stayed 200.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEAD_LIMITS, MONEY_LIMITS, parseDistributionEvent, streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import { publishDurable } from '@fairlead/messaging';
import { waitFor } from '@fairlead/testing';
import { seedNiche, seedProvider, seedSubscription, unique, type SeededNiche } from '../support/seed';
import { leadPayload, operatorToken, startDistributionSystem, type DistributionSystem, type DistributionServiceName } from '../support/system';
import { checkColumnBounds } from '../support/column-bounds';

let system: DistributionSystem;
let niche: SeededNiche;
let provider: string;

beforeAll(async () => {
  system = await startDistributionSystem('poison', { operatorApi: true });
  niche = await seedNiche(system, 'poison', [{ max_recipients: 1, price_per_lead_cents: 100 }]);
  provider = await seedProvider(system, unique('poisonp'), 1_000_000);
  await seedSubscription(system, provider, niche, 1);
}, 180_000);
afterAll(async () => {
  await system?.close();
});

const base = (service: DistributionServiceName) => `http://127.0.0.1:${system.services[service].port}`;
// The answers are read field by field in each test; their shapes are the OpenAPI document's.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(method: string, path: string, roles: string[] = ['admin'], body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${base('operator-api')}${path}`, {
    method,
    headers: { authorization: `Bearer ${await operatorToken(roles)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}
const readyz = async (service: DistributionServiceName) => {
  const response = await fetch(`${base(service)}/readyz`);
  return { status: response.status, body: await response.text() };
};

/** An ordinary lead after the bad input: approved, relayed and distributed to the niche's provider. */
async function ordinaryLeadIsDistributed(): Promise<void> {
  const lead = unique('ordinary');
  await system.publishLead(leadPayload(lead, niche.niche_id));
  const outcome = await system.waitForOutcome(lead, 60_000);
  expect(outcome.outcome).toBe('success');
  expect(outcome.assignments.map((a) => a.provider_id)).toEqual([provider]);
}

async function publishRaw(data: Uint8Array): Promise<void> {
  await publishDurable(system.js, system.subjects.leadApproved, data, { msgID: randomUUID() });
}
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
async function rejectionOf(leadId: string) {
  const event = await waitFor(async () => (await system.leadEvents(leadId)).find((e) => e.type === 'LeadRejected'), { what: `the rejection of ${leadId}`, timeoutMs: 30_000 });
  return parseDistributionEvent('LeadRejected', event.data);
}
/** A dead letter of this lead, as operators list it. */
async function listedDeadLetter(leadId: string) {
  return waitFor(
    async () => {
      const page = await api('GET', '/api/v1/admin/dead-letters?limit=100', ['viewer']);
      return (page.json.items as { seq: number; lead_id: string | null; reason: string; attempts: number }[]).find((d) => d.lead_id === leadId);
    },
    { what: `the dead letter of ${leadId} in the operator API`, timeoutMs: 30_000 },
  );
}

describe('input from outside never stops distribution', () => {
  it('a lead at the bus’s limit (valid, then invalid) is refused before it is stored, listed as a dead letter, and later leads are distributed', async () => {
    for (const variant of ['valid', 'invalid'] as const) {
      const leadId = unique(`huge-${variant}`);
      const lead = { ...leadPayload(leadId, niche.niche_id), ...(variant === 'invalid' ? { schema_version: 2 } : {}), details: { pad: '' } };
      // About 1,048,000 bytes: under JetStream's 1 MiB, as the report sent it.
      const data = encode({ ...lead, details: { pad: 'x'.repeat(system.nc.info!.max_payload - 600 - encode(lead).length) } });
      expect(data.length).toBeGreaterThan(1_040_000);
      await publishRaw(data);

      const rejection = await rejectionOf(leadId);
      expect(rejection.reasons[0]).toContain(`at most ${LEAD_LIMITS.maxBytes} are accepted`);
      expect(rejection.payload_summary?.bytes).toBe(data.length);
      expect((await system.leadEvents(leadId)).map((e) => e.type)).toEqual(['LeadRejected']);
      const dead = await listedDeadLetter(leadId);
      expect(dead).toMatchObject({ reason: 'permanent', attempts: 1 });
      const detail = await api('GET', `/api/v1/admin/dead-letters/${dead.seq}`, ['viewer']);
      expect(detail.json).toMatchObject({ payload_truncated: true, payload_bytes: data.length });
      expect((await api('POST', `/api/v1/admin/dead-letters/${dead.seq}/redrive`, ['operator'])).json).toMatchObject({ code: 'DEAD_LETTER_TRUNCATED' });
      await ordinaryLeadIsDistributed();
    }
    expect((await readyz('relay')).status).toBe(200);
  });

  it('a deeply nested lead and a lead PostgreSQL cannot store are refused at once (no retries), and later leads are distributed', async () => {
    const deep = unique('deep');
    const text = JSON.stringify({ ...leadPayload(deep, niche.niche_id), details: null }).replace('"details":null', `"details":${'{"a":'.repeat(9_000)}1${'}'.repeat(9_000)}`);
    await publishRaw(new TextEncoder().encode(text));
    expect((await rejectionOf(deep)).reasons).toEqual([`(root): the message is nested more than ${LEAD_LIMITS.maxDepth} levels deep`]);
    expect(await listedDeadLetter(deep)).toMatchObject({ reason: 'permanent', attempts: 1 });

    const nul = unique('nul');
    await publishRaw(encode({ ...leadPayload(nul, niche.niche_id), details: { note: 'a\u0000b' } }));
    expect((await rejectionOf(nul)).reasons[0]).toMatch(/cannot be stored/);
    expect(await listedDeadLetter(nul)).toMatchObject({ reason: 'permanent', attempts: 1 });
    await ordinaryLeadIsDistributed();
  });

  it('extreme money is refused on every path (HTTP, NATS), the largest accepted amounts are held everywhere, and later leads are distributed', async () => {
    // HTTP: a top-up of 9,007,199,254,740,981 cents and a level price of 2,147,483,648 cents.
    const topUp = await api('POST', `/api/v1/admin/providers/${provider}/wallet/top-ups`, ['operator'], { amount_cents: 9_007_199_254_740_981 });
    expect(topUp.status).toBe(400);
    const level = await api('POST', `/api/v1/admin/niches/${niche.niche_id}/levels`, ['admin'], { name: 'Gold', order_position: 2, max_recipients: 1, price_per_lead_cents: 2_147_483_648 });
    expect(level.status).toBe(400);
    // NATS, as any sender on the bus could send them.
    await expect(system.command('billing', 'top_up', { provider_id: provider, amount_cents: 9_007_199_254_740_981 })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(
      system.command('rotation', 'add_level', { niche_id: niche.niche_id, name: 'Gold', order_position: 2, max_recipients: 1, price_per_lead_cents: 2_147_483_648 }),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });

    // The largest price is held by every read side; a subscription to it works; leads flow.
    const top = await seedNiche(system, 'topprice', [{ max_recipients: 1, price_per_lead_cents: MONEY_LIMITS.maxPriceCents }]);
    const rich = await seedProvider(system, unique('rich'), MONEY_LIMITS.maxTopUpCents);
    await seedSubscription(system, rich, top, 1);
    const lead = unique('toplead');
    await system.publishLead(leadPayload(lead, top.niche_id));
    const outcome = await system.waitForOutcome(lead, 60_000);
    expect(outcome.assignments.map((a) => [a.provider_id, a.price_cents])).toEqual([[rich, MONEY_LIMITS.maxPriceCents]]);
    expect((await system.command('billing', 'get_provider', { provider_id: rich })).balance_cents).toBe(MONEY_LIMITS.maxTopUpCents - MONEY_LIMITS.maxPriceCents);
    const readers = await api('GET', '/api/v1/admin/projections', ['viewer']);
    expect(readers.json.stalled).toBe(0);
    for (const service of ['billing', 'fairness', 'operator-api'] as const) expect((await readyz(service)).status).toBe(200);
    await ordinaryLeadIsDistributed();
  });

  it('an event the read models cannot apply stalls them visibly (/readyz, metrics, the API) until an admin parks it; later events are applied', async () => {
    // A level price past the contract, as a rotation before the money bounds wrote it.
    const old = unique('oldniche');
    await system.store.append(
      streams.niche(old),
      [
        { id: randomUUID(), type: 'NicheCreated', data: { niche_id: old, name: 'Old', auto_distribute: true, actor: SYSTEM_ACTOR } },
        {
          id: randomUUID(),
          type: 'CompetitionLevelAdded',
          data: { niche_id: old, level_id: `${old}-l1`, name: 'Gold', order_position: 1, max_recipients: 1, price_per_lead_cents: 2_147_483_648, active: true, actor: SYSTEM_ACTOR },
        },
      ],
      'no_stream',
    );
    const poison = (await system.store.readStream(streams.niche(old)))[1]!;
    const stalledNames = async () => ((await api('GET', '/api/v1/admin/projections?state=stalled', ['viewer'])).json.items as { name: string }[]).map((r) => r.name).sort();
    const expected = ['billing.levels', 'fairness.levels', 'operator.audit', 'operator.catalogue'];
    await waitFor(async () => JSON.stringify(await stalledNames()) === JSON.stringify(expected), { what: 'the stalls to be reported', timeoutMs: 30_000 });

    const fairnessReady = await readyz('fairness');
    expect(fairnessReady.status).toBe(503);
    expect(fairnessReady.body).toContain(`projection fairness.levels stalled at position ${poison.globalPosition}`);
    const metrics = await (await fetch(`${base('billing')}/metrics`)).text();
    expect(metrics).toMatch(/log_reader_stalled\{[^}]*reader="billing.levels"[^}]*\} 1/);

    // A niche created after the poison event: fairness cannot see its level until the stall is resolved.
    const fresh = await seedNiche(system, 'afterpoison', [{ max_recipients: 1, price_per_lead_cents: 100 }]);
    const freshProvider = await seedProvider(system, unique('afterp'), 10_000);
    for (const name of expected) {
      const parked = await api('POST', `/api/v1/admin/projections/${name}/park`, ['admin'], { event_id: poison.id, reason: 'price beyond the money bounds; level re-created' });
      expect(parked.status).toBe(202);
    }
    await waitFor(async () => (await stalledNames()).length === 0, { what: 'every read model to go on', timeoutMs: 30_000 });
    for (const service of ['billing', 'fairness', 'operator-api'] as const) expect((await readyz(service)).status).toBe(200);

    await seedSubscription(system, freshProvider, fresh, 1);
    const lead = unique('afterlead');
    await system.publishLead(leadPayload(lead, fresh.niche_id));
    expect((await system.waitForOutcome(lead, 60_000)).assignments.map((a) => a.provider_id)).toEqual([freshProvider]);
    await ordinaryLeadIsDistributed();
  });

  it('every column of every read model holds what the contracts accept (bounds derived from the zod schemas)', async () => {
    expect(await checkColumnBounds(system.db.pool)).toEqual([]);
  });
});
