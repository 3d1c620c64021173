import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '@fairlead/contracts';
import { DeciderSpecification } from '@fairlead/event-sourcing/testing';
import { decideApproval, decideDistributionRequest, initialLeadState, type LeadEvent, type LeadState } from './lead';
import { leadDecider } from './lead.decider';
import { actor, completedData, lead, now } from './lead.fixture';

const given = (events: LeadEvent[]): LeadState => DeciderSpecification.for(leadDecider)(events).state;

const approved: LeadEvent = { type: 'LeadApproved', data: { lead, received_via: 'nats' } };
const requested = (request_id: string): LeadEvent => ({
  type: 'DistributionRequested',
  data: { lead_id: 'lead-1', niche_id: 'roofing', request_id, requested_by: SYSTEM_ACTOR, requested_at: now.toISOString() },
});
const failed = (request_id: string, final: boolean): LeadEvent => ({
  type: 'DistributionFailed',
  data: { lead_id: 'lead-1', niche_id: 'roofing', request_id, attempt: 1, error: 'x', final, failed_at: now.toISOString() },
});
const completed = (request_id: string): LeadEvent => ({ type: 'DistributionCompleted', data: completedData(request_id) });
const manual = (request_id = 'r-manual') => ({ lead_id: 'lead-1', request_id, actor, now });

describe('approval', () => {
  it('given a new lead, when approved in an auto niche, then LeadApproved and DistributionRequested by the system', () => {
    const decision = decideApproval(initialLeadState(), { lead, receivedVia: 'http', autoDistribute: true, now });
    expect(decision.status).toBe('accepted');
    expect(decision.events.map((e) => e.event.type)).toEqual(['LeadApproved', 'DistributionRequested']);
    expect(decision.events[1]!.event.data).toMatchObject({ lead_id: 'lead-1', niche_id: 'roofing', requested_by: SYSTEM_ACTOR, requested_at: now.toISOString() });
  });

  it('without auto distribution, then LeadApproved only', () => {
    const decision = decideApproval(initialLeadState(), { lead, receivedVia: 'nats', autoDistribute: false, now });
    expect(decision.events.map((e) => e.event)).toEqual([approved]);
  });

  it('given the lead approved already, then a duplicate; given only a rejection, then accepted', () => {
    expect(decideApproval(given([approved]), { lead, receivedVia: 'nats', autoDistribute: true, now })).toEqual({ status: 'duplicate', events: [] });
    const rejected: LeadEvent = { type: 'LeadRejected', data: { lead_id: 'lead-1', niche_id: 'x', reasons: ['niche_id: unknown niche x'], payload: {}, received_via: 'nats' } };
    expect(decideApproval(given([rejected]), { lead, receivedVia: 'nats', autoDistribute: false, now }).status).toBe('accepted');
  });

  it('uses the same event ids for the same lead (a retried append is a no-op)', () => {
    const a = decideApproval(initialLeadState(), { lead, receivedVia: 'nats', autoDistribute: true, now });
    const b = decideApproval(initialLeadState(), { lead, receivedVia: 'http', autoDistribute: true, now: new Date() });
    expect(a.events.map((e) => e.id)).toEqual(b.events.map((e) => e.id));
  });
});

describe('manual distribution request', () => {
  it('refuses an unknown lead (LEAD_NOT_FOUND) and a lead that was only rejected (LEAD_NOT_APPROVED)', () => {
    expect(() => decideDistributionRequest(initialLeadState(), manual(), false)).toThrow(expect.objectContaining({ code: 'LEAD_NOT_FOUND' }));
    const rejected: LeadEvent = { type: 'LeadRejected', data: { lead_id: 'lead-1', niche_id: null, reasons: ['x'], payload: {}, received_via: 'http' } };
    expect(() => decideDistributionRequest(given([rejected]), manual(), false)).toThrow(expect.objectContaining({ code: 'LEAD_NOT_APPROVED' }));
  });

  it('given an approved lead without a request, then queued with the actor', () => {
    const decision = decideDistributionRequest(given([approved]), manual(), false);
    expect(decision.status).toBe('queued');
    expect(decision.events[0]!.event.data).toMatchObject({ request_id: 'r-manual', requested_by: actor });
  });

  it('given a pending request (even after failed attempts), then already_queued with its id', () => {
    expect(decideDistributionRequest(given([approved, requested('r1')]), manual(), false)).toMatchObject({ status: 'already_queued', request_id: 'r1', events: [] });
    expect(decideDistributionRequest(given([approved, requested('r1'), failed('r1', false)]), manual(), false).status).toBe('already_queued');
  });

  it('given the last request failed finally, then a new request is queued', () => {
    expect(decideDistributionRequest(given([approved, requested('r1'), failed('r1', true)]), manual('r2'), false).status).toBe('queued');
  });

  it('given an outcome, then already_distributed, whatever follows', () => {
    const state = given([approved, requested('r1'), { type: 'other', data: null }, completed('r1')]);
    expect(decideDistributionRequest(state, manual(), false)).toMatchObject({ status: 'already_distributed', request_id: 'r1' });
    expect(state.version).toBe(3);
  });

  it('refuses a given request id that was used and is no longer pending', () => {
    expect(() => decideDistributionRequest(given([approved, requested('r1'), failed('r1', true)]), manual('r1'), true)).toThrow(
      expect.objectContaining({ code: 'REQUEST_ID_USED' }),
    );
  });
});
