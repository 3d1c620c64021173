/**
 * Hostile text in NATS commands, sent to the real services (each its own process): a NUL
 * character or an unpaired surrogate in any free-text field — a name, a reference, a
 * reason, an actor, a lead's consumer — is refused by the command's contract
 * (INVALID_REQUEST, naming the field and the reason) before anything is stored, and an
 * over-deep lead by intake's limits; the services keep answering. (Before the contracts refused them, PostgreSQL did,
 * mid-command, with its own message, or the driver's JSON serializer overflowed its stack.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { COMMANDS, streams, type CommandService } from '@fairlead/contracts';
import { isRemoteError, request } from '@fairlead/messaging';
import { startHttpSystem, type HttpSystem } from './http-system';

let system: HttpSystem;

beforeAll(async () => {
  system = await startHttpSystem('sec_cmds', ['rotation', 'billing', 'fairness', 'intake']);
}, 240_000);
afterAll(async () => {
  await system?.close();
});

const send = (service: CommandService, verb: string, body: unknown) => {
  const reply = (COMMANDS[service] as Record<string, { reply: ZodType }>)[verb]!.reply;
  return request(system.nc, system.subjects.command(service, verb), body, { responseSchema: reply, timeoutMs: 15_000 });
};

/** The command's refusal: INVALID_REQUEST with an issue at `path` that names the reason. */
async function refusal(service: CommandService, verb: string, body: unknown): Promise<{ path: string; message: string }[]> {
  try {
    await send(service, verb, body);
  } catch (error) {
    if (!isRemoteError(error)) throw error;
    expect(error.code, `${service}.${verb}: ${error.message}`).toBe('INVALID_REQUEST');
    return (error.issues ?? []).map((i) => ({ path: i.path.join('.'), message: i.message }));
  }
  throw new Error(`${service}.${verb} accepted a hostile payload`);
}

async function eventCount(): Promise<number> {
  const { rows } = await system.db.pool.query<{ n: string }>(`select count(*)::text as n from ${system.store.schema}.events`);
  return Number(rows[0]!.n);
}

const NUL = 'x\u0000y';
const LONE = 'half an emoji \ud83d';
const lead = (id: string) => ({
  schema_version: 1,
  lead_id: id,
  niche_id: 'sec-niche',
  approved_at: new Date().toISOString(),
  consumer: { name: 'Dana', email: 'dana@example.com' },
  location: { postal_code: '94107', state: 'CA' },
});

describe('hostile text in NATS commands', () => {
  let before: number;
  let providerId: string;

  beforeAll(async () => {
    await send('rotation', 'create_niche', { niche_id: 'sec-niche', name: 'Security', auto_distribute: false });
    providerId = ((await send('billing', 'register_provider', { name: 'Careful Co', email: 'careful@example.com' })) as { provider_id: string }).provider_id;
    await send('billing', 'top_up', { provider_id: providerId, amount_cents: 1_000, reference: 'seed' });
    before = await eventCount();
  });

  it('is refused by every service, naming the field and the reason', async () => {
    const cases: [CommandService, string, unknown, string][] = [
      ['rotation', 'create_niche', { name: NUL }, 'name'],
      ['rotation', 'update_niche', { niche_id: 'sec-niche', name: LONE }, 'name'],
      ['rotation', 'add_level', { niche_id: 'sec-niche', name: 'Gold', order_position: 1, max_recipients: 1, price_per_lead_cents: 100, actor: { actor_id: NUL, actor_role: 'admin' } }, 'actor.actor_id'],
      ['billing', 'register_provider', { name: LONE, email: 'p@example.com' }, 'name'],
      ['billing', 'top_up', { provider_id: providerId, amount_cents: 99_999_999, reference: NUL }, 'reference'],
      ['billing', 'top_up', { provider_id: providerId, amount_cents: 500, idempotency_key: LONE }, 'idempotency_key'],
      ['billing', 'refund', { provider_id: providerId, lead_id: 'l1', reason: NUL }, 'reason'],
      ['fairness', 'set_subscription_status', { subscription_id: 's1', status: 'paused', reason: LONE }, 'reason'],
      ['fairness', 'create_subscription', { provider_id: providerId, niche_id: 'sec-niche', level_id: 'l1', service_area: { postal_codes: [NUL] } }, 'service_area.postal_codes.0'],
      ['intake', 'approve_lead', { ...lead('sec-lead-1'), consumer: { name: NUL, email: 'dana@example.com' } }, 'consumer.name'],
      ['intake', 'approve_lead', { ...lead('sec-lead-2'), details: { [`k${NUL}`]: 1 } }, 'details'],
      ['intake', 'request_distribution', { lead_id: 'sec-lead-1', actor: { actor_id: LONE, actor_role: 'operator' } }, 'actor.actor_id'],
    ];
    for (const [service, verb, body, path] of cases) {
      const issues = await refusal(service, verb, body);
      expect(issues, `${service}.${verb}`).toContainEqual({ path, message: expect.stringMatching(/NUL characters or unpaired UTF-16 surrogates/) });
    }
  });

  it('an over-deep lead is refused without overflowing anything, its rejection the one event recorded', async () => {
    const payload = JSON.stringify({ ...lead('sec-lead-deep'), details: 'DEEP' }).replace('"DEEP"', '{"d":'.repeat(100_000) + '1' + '}'.repeat(100_000));
    try {
      await send('intake', 'approve_lead', new TextEncoder().encode(payload));
      throw new Error('intake accepted a lead nested 100 000 levels deep');
    } catch (error) {
      if (!isRemoteError(error)) throw error;
      expect([error.code, error.message]).toEqual(['LEAD_TOO_DEEP', expect.stringMatching(/nested more than 32 levels deep/)]);
    }
    // Intake records what it refuses (LeadRejected, the payload summarised): that one event, nothing else.
    const events = await system.store.readStream(streams.lead('sec-lead-deep'));
    expect(events.map((e) => e.type)).toEqual(['LeadRejected']);
    before += 1;
  });

  it('changed nothing, and every service still answers', async () => {
    expect(await eventCount()).toBe(before);
    const provider = (await send('billing', 'get_provider', { provider_id: providerId })) as { balance_cents: number; name: string };
    expect(provider).toMatchObject({ balance_cents: 1_000, name: 'Careful Co' });
    expect(await send('rotation', 'get_niche', { niche_id: 'sec-niche' })).toMatchObject({ name: 'Security' });
    expect(await send('intake', 'approve_lead', lead('sec-lead-ok'))).toMatchObject({ status: 'accepted' });
  });
});
