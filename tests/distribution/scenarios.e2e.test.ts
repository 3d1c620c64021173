/**
 * The ten acceptance scenarios of lead distribution, end to end: every service
 * is its own process on real NATS and PostgreSQL; leads arrive as `lead.approved` on
 * JetStream; facts are checked in the event store and through the services' own answers.
 * Each scenario works in a niche of its own, so they share one running system.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, type DistributionEventData } from '@fairlead/contracts';
import { publishDurable } from '@fairlead/messaging';
import { toOutgoingMessage } from '@fairlead/relay';
import { SETUP_TIMEOUT_MS, waitFor } from '@fairlead/testing';
import { balanceOf, seedNiche, seedProvider, seedSubscription, unique } from '../support/seed';
import { leadPayload, operatorToken, startDistributionSystem, type DistributionSystem } from '../support/system';

let system: DistributionSystem;

beforeAll(async () => {
  system = await startDistributionSystem('scenarios', { operatorApi: true });
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  await system?.close();
});

const typesOf = async (leadId: string) => (await system.leadEvents(leadId)).map((e) => e.type);

describe('distribution scenarios', () => {
  it('1. an approved lead creates assignments and charges the wallets', async () => {
    const niche = await seedNiche(system, 's1', [{ max_recipients: 2, price_per_lead_cents: 1500 }]);
    const a = await seedProvider(system, unique('s1a'), 10_000);
    const b = await seedProvider(system, unique('s1b'), 10_000);
    await seedSubscription(system, a, niche, 1);
    await seedSubscription(system, b, niche, 1);

    const lead = unique('lead1');
    await system.publishLead(leadPayload(lead, niche.niche_id));
    const outcome = await system.waitForOutcome(lead);

    expect(outcome.outcome).toBe('success');
    expect(outcome.assignments.map((x) => x.provider_id).sort()).toEqual([a, b].sort());
    expect(outcome.assignments.every((x) => x.price_cents === 1500)).toBe(true);
    expect(await balanceOf(system, a)).toBe(8_500);
    expect(await balanceOf(system, b)).toBe(8_500);
    const charges = (await system.store.readStream(streams.wallet(a))).filter((e) => e.type === 'WalletCharged');
    expect(charges.map((e) => (e.data as { lead_id: string }).lead_id)).toEqual([lead]);
  });

  it('2. distributes across three levels, each up to its max_recipients', async () => {
    const niche = await seedNiche(system, 's2', [
      { max_recipients: 2, price_per_lead_cents: 3000 },
      { max_recipients: 1, price_per_lead_cents: 2000 },
      { max_recipients: 1, price_per_lead_cents: 1000 },
    ]);
    const providers = await Promise.all(['p1', 'p2', 'p3', 'p4', 'p5'].map((p) => seedProvider(system, unique(`s2${p}`), 50_000)));
    // Level 1: three candidates for two slots; levels 2 and 3: one each.
    for (const p of providers.slice(0, 3)) await seedSubscription(system, p, niche, 1);
    await seedSubscription(system, providers[3]!, niche, 2);
    await seedSubscription(system, providers[4]!, niche, 3);

    const lead = unique('lead2');
    await system.publishLead(leadPayload(lead, niche.niche_id));
    const outcome = await system.waitForOutcome(lead);

    expect(outcome.outcome).toBe('success');
    expect(outcome.traversal).toEqual(niche.levels);
    const perLevel = niche.levels.map((l) => outcome.assignments.filter((x) => x.level_id === l).length);
    expect(perLevel).toEqual([2, 1, 1]);
    // Never-served providers tie; the provider id breaks the tie.
    const levelOne = outcome.assignments.filter((x) => x.level_id === niche.levels[0]).map((x) => x.provider_id).sort();
    expect(levelOne).toEqual(providers.slice(0, 3).sort().slice(0, 2));
  });

  it('3. rotates the starting level per niche, wrapping around', async () => {
    const niche = await seedNiche(system, 's3', [1, 2, 3].map(() => ({ max_recipients: 1, price_per_lead_cents: 100 })));
    const p = await seedProvider(system, unique('s3p'), 100_000);
    for (const position of [1, 2, 3]) await seedSubscription(system, p, niche, position);

    const starts: number[] = [];
    const traversals: string[][] = [];
    for (let i = 0; i < 4; i++) {
      const lead = unique(`lead3-${i}`);
      await system.publishLead(leadPayload(lead, niche.niche_id));
      const outcome = await system.waitForOutcome(lead);
      starts.push(outcome.start_order_position!);
      traversals.push(outcome.traversal);
    }
    expect(starts).toEqual([1, 2, 3, 1]);
    const [l1, l2, l3] = niche.levels;
    expect(traversals[1]).toEqual([l2, l3, l1]);
    expect(traversals[2]).toEqual([l3, l1, l2]);
  });

  it('4. skips a provider short of funds and fills the slot from the next in line', async () => {
    const niche = await seedNiche(system, 's4', [{ max_recipients: 1, price_per_lead_cents: 2500 }]);
    // Ids sort so that the broke provider is first in line.
    const broke = await seedProvider(system, unique('s4a-broke'), 1000);
    const funded = await seedProvider(system, unique('s4b-funded'), 10_000);
    await seedSubscription(system, broke, niche, 1);
    await seedSubscription(system, funded, niche, 1);

    const lead = unique('lead4');
    await system.publishLead(leadPayload(lead, niche.niche_id));
    const outcome = await system.waitForOutcome(lead);

    expect(outcome.outcome).toBe('partial');
    expect(outcome.assignments.map((x) => x.provider_id)).toEqual([funded]);
    expect(outcome.skipped).toEqual([expect.objectContaining({ provider_id: broke, reason: 'insufficient_balance' })]);
    expect(await balanceOf(system, broke)).toBe(1000);
    expect(await balanceOf(system, funded)).toBe(7_500);
  });

  it('5. gives a provider subscribed in several levels the lead once', async () => {
    const niche = await seedNiche(system, 's5', [
      { max_recipients: 1, price_per_lead_cents: 2000 },
      { max_recipients: 1, price_per_lead_cents: 1000 },
    ]);
    const both = await seedProvider(system, unique('s5a-both'), 10_000);
    const second = await seedProvider(system, unique('s5b-second'), 10_000);
    await seedSubscription(system, both, niche, 1);
    await seedSubscription(system, both, niche, 2);
    await seedSubscription(system, second, niche, 2);

    const lead = unique('lead5');
    await system.publishLead(leadPayload(lead, niche.niche_id));
    const outcome = await system.waitForOutcome(lead);

    expect(outcome.assignments.filter((x) => x.provider_id === both)).toHaveLength(1);
    expect(outcome.assignments.map((x) => [x.level_id, x.provider_id])).toEqual([
      [niche.levels[0], both],
      [niche.levels[1], second],
    ]);
    expect(await balanceOf(system, both)).toBe(8_000);
  });

  it('6. distributes on a manual trigger when the niche does not auto-distribute', async () => {
    const niche = await seedNiche(system, 's6', [{ max_recipients: 1, price_per_lead_cents: 700 }], false);
    const p = await seedProvider(system, unique('s6p'), 5_000);
    await seedSubscription(system, p, niche, 1);

    const lead = unique('lead6');
    await system.publishLead(leadPayload(lead, niche.niche_id));
    await waitFor(async () => (await typesOf(lead)).includes('LeadApproved'), { what: 'the approval' });
    expect(await typesOf(lead)).toEqual(['LeadApproved']);

    const reply = await system.command('intake', 'request_distribution', { lead_id: lead, actor: { actor_id: 'ops@fairlead', actor_role: 'admin' } });
    expect(reply.status).toBe('queued');
    const outcome = await system.waitForOutcome(lead);
    expect(outcome.assignments.map((x) => x.provider_id)).toEqual([p]);
    const requested = (await system.leadEvents(lead)).find((e) => e.type === 'DistributionRequested')!.data as DistributionEventData<'DistributionRequested'>;
    expect(requested.requested_by).toEqual({ actor_id: 'ops@fairlead', actor_role: 'admin' });
  });

  it('7. the status read model reflects each outcome', async () => {
    const token = await operatorToken(['viewer'], false);
    const status = async (leadId: string) => {
      const res = await fetch(`http://127.0.0.1:${system.services['operator-api'].port}/api/v1/admin/leads/${leadId}/distribution-status`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined;
    };
    const statusOnce = (leadId: string, expected: Record<string, unknown>) =>
      waitFor(async () => {
        const s = await status(leadId);
        return s && Object.entries(expected).every(([k, v]) => s[k] === v) ? s : undefined;
      }, { what: `status of ${leadId} to be ${JSON.stringify(expected)}` });

    const funded = await seedNiche(system, 's7ok', [{ max_recipients: 2, price_per_lead_cents: 800 }]);
    const p1 = await seedProvider(system, unique('s7p1'), 10_000);
    await seedSubscription(system, p1, funded, 1);
    const empty = await seedNiche(system, 's7none', [{ max_recipients: 1, price_per_lead_cents: 800 }]);
    const broke = await seedNiche(system, 's7broke', [{ max_recipients: 1, price_per_lead_cents: 800 }]);
    const p2 = await seedProvider(system, unique('s7p2'), 100);
    await seedSubscription(system, p2, broke, 1);
    const manual = await seedNiche(system, 's7manual', [{ max_recipients: 1, price_per_lead_cents: 800 }], false);

    const [ok, none, failed, waiting] = [unique('lead7ok'), unique('lead7none'), unique('lead7failed'), unique('lead7waiting')];
    await system.publishLead(leadPayload(ok, funded.niche_id));
    await system.publishLead(leadPayload(none, empty.niche_id));
    await system.publishLead(leadPayload(failed, broke.niche_id));
    await system.publishLead(leadPayload(waiting, manual.niche_id));
    await Promise.all([ok, none, failed].map((id) => system.waitForOutcome(id)));

    const okStatus = await statusOnce(ok, { lead_status: 'distributed', last_attempt_status: 'success', assignments_created: 1 });
    expect(okStatus).toMatchObject({ lead_id: ok, start_level_order_position: 1 });
    expect(typeof okStatus.last_attempt_at).toBe('string');
    await statusOnce(none, { last_attempt_status: 'success', assignments_created: 0 });
    await statusOnce(failed, { last_attempt_status: 'failed', assignments_created: 0 });
    const waitingStatus = await statusOnce(waiting, { lead_status: 'approved', last_attempt_status: 'none', assignments_created: 0 });
    expect(waitingStatus.start_level_order_position).toBeNull();

    // A manual trigger moves it through queued to its outcome.
    await system.command('intake', 'request_distribution', { lead_id: waiting });
    await system.waitForOutcome(waiting);
    await statusOnce(waiting, { lead_status: 'distributed', last_attempt_status: 'success' });
  });

  it('8. zero eligible providers: no assignments, outcome no_eligible, not an error', async () => {
    const niche = await seedNiche(system, 's8', [{ max_recipients: 2, price_per_lead_cents: 900 }]);
    const p = await seedProvider(system, unique('s8p'), 5_000);
    await seedSubscription(system, p, niche, 1, { states: ['NY'] });

    const lead = unique('lead8');
    await system.publishLead(leadPayload(lead, niche.niche_id, { postal_code: '94107', state: 'CA' }));
    const outcome = await system.waitForOutcome(lead);

    expect(outcome.outcome).toBe('no_eligible');
    expect(outcome.assignments).toEqual([]);
    expect(await typesOf(lead)).not.toContain('DistributionFailed');
    expect(await balanceOf(system, p)).toBe(5_000);
  });

  it('9. every provider short of funds: no assignments, wallets untouched', async () => {
    const niche = await seedNiche(system, 's9', [{ max_recipients: 2, price_per_lead_cents: 5000 }]);
    const a = await seedProvider(system, unique('s9a'), 4_999);
    const b = await seedProvider(system, unique('s9b'), 0);
    await seedSubscription(system, a, niche, 1);
    await seedSubscription(system, b, niche, 1);

    const lead = unique('lead9');
    await system.publishLead(leadPayload(lead, niche.niche_id));
    const outcome = await system.waitForOutcome(lead);

    expect(outcome.assignments).toEqual([]);
    expect(outcome.outcome).toBe('failed');
    expect(outcome.skipped.map((s) => [s.provider_id, s.reason]).sort()).toEqual(
      [
        [a, 'insufficient_balance'],
        [b, 'insufficient_balance'],
      ].sort(),
    );
    expect(await balanceOf(system, a)).toBe(4_999);
    expect(await balanceOf(system, b)).toBe(0);
  });

  it('10. the same lead approved twice, distributed twice and redelivered: one assignment, one charge', async () => {
    const niche = await seedNiche(system, 's10', [{ max_recipients: 1, price_per_lead_cents: 1200 }]);
    const p = await seedProvider(system, unique('s10p'), 10_000);
    await seedSubscription(system, p, niche, 1);

    const lead = unique('lead10');
    const payload = leadPayload(lead, niche.niche_id);
    await system.publishLead(payload);
    await system.publishLead(payload);
    await system.waitForOutcome(lead);

    const again = await system.command('intake', 'request_distribution', { lead_id: lead });
    expect(again.status).toBe('already_distributed');
    // Redelivery: the relayed DistributionRequested is published again under a new msgID,
    // and the approval once more, as an upstream retry would.
    const requested = (await system.leadEvents(lead)).find((e) => e.type === 'DistributionRequested')!;
    const message = toOutgoingMessage(system.subjects, requested);
    await publishDurable(system.js, message.subject, message.payload, { msgID: `redelivery-${requested.id}`, headers: message.headers });
    await system.publishLead(payload);
    await system.waitForConsumersIdle();

    // Approval, request and outcome each once; the later messages changed nothing.
    const types = await typesOf(lead);
    expect(types.filter((t) => t === 'LeadApproved')).toHaveLength(1);
    expect(types.filter((t) => t === 'DistributionCompleted')).toHaveLength(1);
    expect(types.filter((t) => t === 'LeadAssigned')).toHaveLength(1);
    const charges = (await system.store.readStream(streams.wallet(p))).filter((e) => e.type === 'WalletCharged');
    expect(charges).toHaveLength(1);
    expect(await balanceOf(system, p)).toBe(8_800);
  });
});
