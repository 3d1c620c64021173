/** The lead decider, given/when/then: what each of intake's commands records on a lead's stream. */
import { describe, expect, it } from 'vitest';
import { DeciderSpecification } from '@fairlead/event-sourcing/testing';
import { SYSTEM_ACTOR, type DistributionEventData } from '@fairlead/contracts';
import { LeadNotApprovedError, LeadNotFoundError, RequestIdUsedError } from './errors';
import { ids } from './ids';
import { leadDecider, type LeadCommand, type LeadStreamEvent } from './lead.decider';
import { actor, completedData, lead, now } from './lead.fixture';

const given = DeciderSpecification.for(leadDecider);

const approve = (autoDistribute: boolean): LeadCommand => ({ type: 'ApproveLead', approval: { lead, receivedVia: 'http', autoDistribute, now } });
const request = (request_id: string, requestIdGiven = false): LeadCommand => ({ type: 'RequestDistribution', request: { lead_id: 'lead-1', request_id, actor, now }, requestIdGiven });
const rejection: DistributionEventData<'LeadRejected'> = { lead_id: 'lead-1', niche_id: 'roofing', reasons: ['consumer.email: invalid'], payload: {}, received_via: 'nats' };
const reject = (eventId = 'rejection-1'): LeadCommand => ({ type: 'RecordRejection', eventId, rejection });

const approved = (): LeadStreamEvent => ({ id: ids.approved('lead-1'), type: 'LeadApproved', data: { lead, received_via: 'http' } });
const requested = (request_id: string, requested_by: DistributionEventData<'DistributionRequested'>['requested_by'] = actor): LeadStreamEvent => ({
  id: ids.requested('lead-1', request_id),
  type: 'DistributionRequested',
  data: { lead_id: 'lead-1', niche_id: 'roofing', request_id, requested_by, requested_at: now.toISOString() },
});
const failedFinally = (request_id: string): LeadStreamEvent => ({
  type: 'DistributionFailed',
  data: { lead_id: 'lead-1', niche_id: 'roofing', request_id, attempt: 5, error: 'billing down', final: true, failed_at: now.toISOString() },
});
const other: LeadStreamEvent = { type: 'other', data: null };

describe('leadDecider: approve', () => {
  it('given a new stream, when approved in a niche that distributes automatically, then LeadApproved and the system’s request, with their natural ids', () => {
    const state = given([]).when(approve(true)).then([approved(), requested(ids.autoRequest('lead-1'), SYSTEM_ACTOR)]);
    expect(state).toMatchObject({ version: 1, lead, pending: ids.autoRequest('lead-1') });
  });

  it('given a new stream, when approved in a manual niche, then LeadApproved alone', () => {
    given([]).when(approve(false)).then([approved()]);
  });

  it('given the lead approved already, then nothing happens (a duplicate)', () => {
    given([approved()]).when(approve(true)).thenNothingHappened();
  });

  it('given only rejections, then the approval is recorded', () => {
    given([{ type: 'LeadRejected', data: rejection }]).when(approve(false)).then([approved()]);
  });
});

describe('leadDecider: request a distribution', () => {
  it('given an approved lead with no request, then DistributionRequested by the actor', () => {
    given([approved()]).when(request('r1')).then([requested('r1')]);
  });

  it('refuses an unknown lead and a lead that was only rejected', () => {
    given([]).when(request('r1')).thenThrows(LeadNotFoundError);
    given([{ type: 'LeadRejected', data: rejection }]).when(request('r1')).thenThrows(LeadNotApprovedError);
  });

  it('given a pending request, or an outcome after other events of the stream, then nothing happens', () => {
    given([approved(), requested('r1')]).when(request('r2')).thenNothingHappened();
    given([approved(), requested('r1'), other, { type: 'DistributionCompleted', data: completedData('r1') }]).when(request('r2')).thenNothingHappened();
  });

  it('given the last request failed finally, then a new one; a used request id given again is refused', () => {
    given([approved(), requested('r1'), failedFinally('r1')]).when(request('r2')).then([requested('r2')]);
    given([approved(), requested('r1'), failedFinally('r1')]).when(request('r1', true)).thenThrows(RequestIdUsedError, (e) => e.code === 'REQUEST_ID_USED');
  });

  it('counts every event of the stream, the ones intake does not read too, as the version', () => {
    expect(given([approved(), other, other]).state.version).toBe(2);
  });
});

describe('leadDecider: record a rejection', () => {
  it('given no approval, then LeadRejected with the id it was given', () => {
    given([]).when(reject('rejection-7')).then([{ id: 'rejection-7', type: 'LeadRejected', data: rejection }]);
    given([{ type: 'LeadRejected', data: rejection }]).when(reject('rejection-8')).then([{ id: 'rejection-8', type: 'LeadRejected', data: rejection }]);
  });

  it('given the lead approved, then nothing on its stream (the bad copy is filed apart)', () => {
    given([approved()]).when(reject()).thenNothingHappened();
  });
});
