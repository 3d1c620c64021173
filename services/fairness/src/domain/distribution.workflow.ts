/**
 * The distribution of a lead as a Workflow (`@fairlead/event-sourcing`): what each answer
 * the process receives — rotation's claim, billing's answer to a pick, the decision to take
 * picks back or to finish — records in the lead's stream, each event under its
 * deterministic id (a resumed attempt records nothing twice). The selection of providers is
 * decided against the niche's served view (selectProviders) and recorded by the application.
 */
import type { Workflow } from '@fairlead/event-sourcing';
import type { DistributionEventData, LevelSnapshot } from '@fairlead/contracts';
import { chargeRecord, completedEvent, startedEvent, type ChargeResult } from './distribution-decider';
import { evolveDistribution, initialDistributionState, type DistributionState, type LeadEvent, type Pick } from './distribution-state';
import { eventIds } from './ids';

/** What the distribution of one lead reacts to. */
export type DistributionInput =
  /** Rotation's claim of the lead's start level; null: the niche has no active level (an outcome, not an error). */
  | { type: 'start_level_claimed'; claim: { startOrderPosition: number; traversal: LevelSnapshot[] } | null; requestId: string; attempt: number; now: Date }
  /** Billing's answer to one pick; `servedAt` is the pick's served time (the assignment's assigned_at). */
  | { type: 'charge_answered'; pick: Pick; result: ChargeResult; servedAt: Date }
  /** Billing did not attempt these picks: an earlier lead's charge was declined. */
  | { type: 'earlier_charge_declined'; picks: readonly Pick[] }
  /** Nothing is left to decide. */
  | { type: 'finished'; requestId: string; attempt: number; now: Date };

/** A lead event as the workflow records it, with its deterministic id. */
export type DistributionOutput = LeadEvent & { id: string };

function decide(input: DistributionInput, state: DistributionState): DistributionOutput[] {
  const leadId = state.lead?.lead_id;
  if (!leadId) throw new Error('the lead stream holds no approved lead');
  switch (input.type) {
    case 'start_level_claimed': {
      if (input.claim === null) return decide({ type: 'finished', requestId: input.requestId, attempt: input.attempt, now: input.now }, state);
      const data = startedEvent(state, { requestId: input.requestId, attempt: input.attempt, ...input.claim, now: input.now });
      return [{ id: eventIds.started(leadId), type: 'DistributionStarted', data }];
    }
    case 'charge_answered': {
      const record = chargeRecord(state, input.pick, input.result, input.servedAt);
      const id = record.type === 'LeadAssigned' ? eventIds.assigned(leadId, input.pick.providerId) : eventIds.skipped(leadId, input.pick.providerId, input.pick.levelId);
      return [{ id, ...record }];
    }
    case 'earlier_charge_declined': {
      const data: DistributionEventData<'PicksWithdrawn'> = {
        lead_id: leadId,
        picks: input.picks.map((p) => ({ provider_id: p.providerId, subscription_id: p.subscriptionId, level_id: p.levelId })),
        reason: 'earlier_charge_declined',
      };
      // One withdrawal per version of the stream: the version this event takes.
      return [{ id: eventIds.withdrawn(leadId, state.version + 1), type: 'PicksWithdrawn', data }];
    }
    case 'finished':
      return [{ id: eventIds.completed(leadId), type: 'DistributionCompleted', data: completedEvent(state, { requestId: input.requestId, attempt: input.attempt, now: input.now }) }];
  }
}

export const distributionWorkflow: Workflow<DistributionInput, DistributionOutput, DistributionState, LeadEvent> = {
  initialState: initialDistributionState,
  evolve: (state, event) => evolveDistribution(state, event, state.version + 1),
  decide,
};
