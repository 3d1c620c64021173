/**
 * The redrive of a dead-lettered EVENT end to end, every service its own process and its
 * own bus identity (the permission table in force): only the relay may publish events, so
 * the operator API asks the relay (`relay.republish`) to publish the stored event again.
 *
 * A DistributionRequested for a lead whose approval is not recorded yet is dead-lettered by
 * fairness (FAIRNESS_LEAD_NOT_APPROVED, permanent); once the approval is recorded, an
 * operator redrives it over HTTP and fairness distributes the lead. Abuse: the redrive of a
 * dead letter naming an event that is not stored is refused and the dead letter stays.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetterHeaders, publishDurable } from '@fairlead/messaging';
import { parseDistributionEvent, streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import { waitFor } from '@fairlead/testing';
import { seedNiche, seedProvider, seedSubscription, unique, type SeededNiche } from '../support/seed';
import { operatorToken, startDistributionSystem, type DistributionSystem } from '../support/system';

let system: DistributionSystem;
let niche: SeededNiche;
let provider: string;

beforeAll(async () => {
  system = await startDistributionSystem('redrive', { operatorApi: true });
  niche = await seedNiche(system, 'redrive', [{ max_recipients: 1, price_per_lead_cents: 100 }]);
  provider = await seedProvider(system, unique('redrivep'), 1_000_000);
  await seedSubscription(system, provider, niche, 1);
}, 180_000);
afterAll(async () => {
  await system?.close();
});

// The answers are read field by field; their shapes are the OpenAPI document's.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(method: string, path: string, roles: string[]): Promise<{ status: number; json: any }> {
  const response = await fetch(`http://127.0.0.1:${system.services['operator-api'].port}${path}`, { method, headers: { authorization: `Bearer ${await operatorToken(roles)}` } });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}
const deadLetterOf = (leadId: string) =>
  waitFor(
    async () => {
      const page = await api('GET', '/api/v1/admin/dead-letters?limit=100', ['viewer']);
      return (page.json.items as { seq: number; lead_id: string | null; reason: string; event_type: string | null }[]).find((d) => d.lead_id === leadId);
    },
    { what: `the dead letter of ${leadId}`, timeoutMs: 30_000 },
  );

const approval = (leadId: string) => ({
  id: randomUUID(),
  type: 'LeadApproved',
  data: parseDistributionEvent('LeadApproved', {
    received_via: 'nats',
    lead: { schema_version: 1, lead_id: leadId, niche_id: niche.niche_id, approved_at: new Date().toISOString(), consumer: { name: 'Dana Consumer', email: 'dana@example.com' }, location: { postal_code: '94107', state: 'CA' }, details: {} },
  }),
});
const request = (leadId: string) => ({
  id: randomUUID(),
  type: 'DistributionRequested',
  data: parseDistributionEvent('DistributionRequested', { lead_id: leadId, niche_id: niche.niche_id, request_id: `r-${leadId}`, requested_by: SYSTEM_ACTOR, requested_at: new Date().toISOString() }),
});

describe('redrive of a dead-lettered event (real processes, real identities)', () => {
  it('an operator redrives it once the cause is fixed: the relay republishes the stored event and fairness distributes the lead', async () => {
    const lead = unique('redrive');
    await system.store.append(streams.lead(lead), [request(lead)], 'any');
    const letter = await deadLetterOf(lead);
    expect(letter).toMatchObject({ reason: 'permanent', event_type: 'DistributionRequested' });

    // The cause, fixed: the approval is recorded now.
    await system.store.append(streams.lead(lead), [approval(lead)], 'any');
    const res = await api('POST', `/api/v1/admin/dead-letters/${letter.seq}/redrive`, ['operator']);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ seq: letter.seq, subject: system.subjects.eventSubject('lead', 'DistributionRequested'), lead_id: lead });

    const outcome = await system.waitForOutcome(lead, 60_000);
    expect(outcome.outcome).toBe('success');
    expect(outcome.assignments.map((a) => a.provider_id)).toEqual([provider]);
    expect((await api('GET', `/api/v1/admin/dead-letters/${letter.seq}`, ['viewer'])).status).toBe(404);
  });

  it('refuses the redrive of a dead letter naming an event that is not stored (404), and keeps it', async () => {
    const lead = unique('forged');
    const forged = { event_id: randomUUID(), stream: streams.lead(lead), type: 'DistributionRequested', stream_version: 0, global_position: '1', transaction_id: '1', created_at: new Date().toISOString(), data: request(lead).data, metadata: {} };
    const subject = system.subjects.eventSubject('lead', 'DistributionRequested');
    await publishDurable(system.js, system.subjects.deadLetterSubject(subject), forged, { msgID: randomUUID(), headers: { [DeadLetterHeaders.OriginalSubject]: subject, [DeadLetterHeaders.Reason]: 'permanent' } });
    const letter = await deadLetterOf(lead);

    const res = await api('POST', `/api/v1/admin/dead-letters/${letter.seq}/redrive`, ['operator']);
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ code: 'EVENT_NOT_FOUND' });
    expect((await api('GET', `/api/v1/admin/dead-letters/${letter.seq}`, ['viewer'])).status).toBe(200);
    expect(await system.leadEvents(lead)).toEqual([]);
  });
});
