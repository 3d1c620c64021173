/**
 * A lead's stream (`lead-<id>`) as intake reads it: was it approved, rejected, is a
 * distribution pending or done. Intake writes the approval, rejections and distribution
 * requests; fairness writes the rest, which here only moves the version or ends a request.
 */
import { SYSTEM_ACTOR, type Actor, type DistributionEventData, type LeadApprovedV1 } from '@fairlead/contracts';
import { LeadNotApprovedError, LeadNotFoundError, RequestIdUsedError } from './errors';
import { ids } from './ids';

export interface LeadState {
  /** Version of the lead stream; -1 when it does not exist. */
  version: number;
  lead: LeadApprovedV1 | null;
  rejections: number;
  /** Every distribution request id, in order. */
  requests: string[];
  /** The request a distribution is (or will be) working on: the last one, until it completes or finally fails. */
  pending: string | null;
  /** The request the outcome was recorded for. */
  completed: string | null;
}

export const initialLeadState = (): LeadState => ({ version: -1, lead: null, rejections: 0, requests: [], pending: null, completed: null });

export type IntakeEvent =
  | { type: 'LeadApproved'; data: DistributionEventData<'LeadApproved'> }
  | { type: 'LeadRejected'; data: DistributionEventData<'LeadRejected'> }
  | { type: 'DistributionRequested'; data: DistributionEventData<'DistributionRequested'> };

export type LeadEvent =
  | IntakeEvent
  | { type: 'DistributionCompleted'; data: DistributionEventData<'DistributionCompleted'> }
  | { type: 'DistributionFailed'; data: DistributionEventData<'DistributionFailed'> }
  /** Any other event of the stream (fairness's picks, assignments, …) only moves the version. */
  | { type: 'other'; data: null };

export const LEAD_EVENT_TYPES: ReadonlySet<string> = new Set(['LeadApproved', 'LeadRejected', 'DistributionRequested', 'DistributionCompleted', 'DistributionFailed']);

export function evolveLead(state: LeadState, event: LeadEvent, version: number): LeadState {
  const next = { ...state, version };
  switch (event.type) {
    case 'LeadApproved':
      return state.lead ? next : { ...next, lead: event.data.lead };
    case 'LeadRejected':
      return { ...next, rejections: state.rejections + 1 };
    case 'DistributionRequested':
      return { ...next, requests: [...state.requests, event.data.request_id], pending: state.completed ? state.pending : event.data.request_id };
    case 'DistributionCompleted':
      return { ...next, completed: event.data.request_id, pending: null };
    case 'DistributionFailed':
      return event.data.final && event.data.request_id === state.pending ? { ...next, pending: null } : next;
    case 'other':
      return next;
  }
}

export interface Approval {
  lead: LeadApprovedV1;
  receivedVia: 'nats' | 'http';
  /** The niche's auto_distribute flag. */
  autoDistribute: boolean;
  now: Date;
}

export type ApprovalDecision =
  | { status: 'duplicate'; events: [] }
  | { status: 'accepted'; events: { id: string; event: IntakeEvent }[]; distributionRequested: boolean };

/** LeadApproved (and DistributionRequested when the niche distributes automatically), once per lead. */
export function decideApproval(state: LeadState, approval: Approval): ApprovalDecision {
  if (state.lead) return { status: 'duplicate', events: [] };
  const { lead } = approval;
  const events: { id: string; event: IntakeEvent }[] = [{ id: ids.approved(lead.lead_id), event: { type: 'LeadApproved', data: { lead, received_via: approval.receivedVia } } }];
  if (approval.autoDistribute) {
    const requestId = ids.autoRequest(lead.lead_id);
    events.push({
      id: ids.requested(lead.lead_id, requestId),
      event: {
        type: 'DistributionRequested',
        data: { lead_id: lead.lead_id, niche_id: lead.niche_id, request_id: requestId, requested_by: SYSTEM_ACTOR, requested_at: approval.now.toISOString() },
      },
    });
  }
  return { status: 'accepted', events, distributionRequested: approval.autoDistribute };
}

export interface DistributionRequest {
  lead_id: string;
  request_id: string;
  actor: Actor;
  now: Date;
}

export type DistributionRequestDecision =
  | { status: 'already_distributed' | 'already_queued'; request_id: string; events: [] }
  | { status: 'queued'; request_id: string; events: { id: string; event: IntakeEvent }[] };

/**
 * The manual trigger: a new DistributionRequested unless the lead is distributed already
 * or a request is still pending (one that has not completed nor finally failed).
 */
export function decideDistributionRequest(state: LeadState, request: DistributionRequest, requestIdGiven: boolean): DistributionRequestDecision {
  if (state.version === -1) throw new LeadNotFoundError(request.lead_id);
  if (!state.lead) throw new LeadNotApprovedError(request.lead_id);
  if (state.completed) return { status: 'already_distributed', request_id: state.completed, events: [] };
  if (state.pending) return { status: 'already_queued', request_id: state.pending, events: [] };
  if (requestIdGiven && state.requests.includes(request.request_id)) throw new RequestIdUsedError(request.lead_id, request.request_id);
  const { lead } = state;
  return {
    status: 'queued',
    request_id: request.request_id,
    events: [
      {
        id: ids.requested(lead.lead_id, request.request_id),
        event: {
          type: 'DistributionRequested',
          data: { lead_id: lead.lead_id, niche_id: lead.niche_id, request_id: request.request_id, requested_by: request.actor, requested_at: request.now.toISOString() },
        },
      },
    ],
  };
}
