/**
 * The lead stream as one decider: intake's three commands (approve, request a
 * distribution, record a rejection) decided on intake's view of the stream. The rules
 * themselves are decideApproval and decideDistributionRequest (lead.ts); this puts them in
 * the shape `handleCommand` runs, with each event's deterministic id, so a retried append
 * of the same fact is a no-op.
 */
import type { Decider } from '@fairlead/event-sourcing';
import type { DistributionEventData } from '@fairlead/contracts';
import { decideApproval, decideDistributionRequest, evolveLead, initialLeadState, type Approval, type DistributionRequest, type IntakeEvent, type LeadEvent, type LeadState } from './lead';

export type LeadCommand =
  | { type: 'ApproveLead'; approval: Approval }
  /** `requestIdGiven`: the caller named the request id (a used one is refused rather than repeated). */
  | { type: 'RequestDistribution'; request: DistributionRequest; requestIdGiven: boolean }
  /** `eventId`: the rejection's id (of the delivered message when known, so a redelivery records nothing new). */
  | { type: 'RecordRejection'; eventId: string; rejection: DistributionEventData<'LeadRejected'> };

/** An event of the lead stream as intake reads it; the ones intake decides carry their id. */
export type LeadStreamEvent = LeadEvent & { id?: string };

const withIds = (events: readonly { id: string; event: IntakeEvent }[]): LeadStreamEvent[] => events.map(({ id, event }) => ({ ...event, id }));

export const leadDecider: Decider<LeadCommand, LeadStreamEvent, LeadState> = {
  initialState: initialLeadState,
  // Every event of the stream reaches evolve (the ones intake does not read as `other`), so counting them is the stream's version.
  evolve: (state, event) => evolveLead(state, event, state.version + 1),
  decide: (command, state) => {
    switch (command.type) {
      case 'ApproveLead':
        return withIds(decideApproval(state, command.approval).events);
      case 'RequestDistribution':
        return withIds(decideDistributionRequest(state, command.request, command.requestIdGiven).events);
      case 'RecordRejection':
        // An approved lead's history stays about that lead: its bad copies are filed apart (the caller's part).
        return state.lead ? [] : [{ id: command.eventId, type: 'LeadRejected', data: command.rejection }];
    }
  },
};
