/**
 * The manual trigger. The lead's own stream (not a projection that may lag) says whether
 * it exists, is approved and is already distributed; a distributed lead is answered
 * without asking for anything. Otherwise intake, the stream's owner, records the request
 * (it answers `already_queued` when one is pending) and the work queue does the rest.
 */
import { streams, type Actor } from '@fairlead/contracts';
import type { EventStore } from '@fairlead/event-store';
import { NotFoundError, ValidationError } from '@fairlead/platform';
import type { CommandBus } from './commands';

export type DistributionRequestStatus = 'queued' | 'already_queued' | 'already_distributed';

export interface DistributionRequestAnswer {
  lead_id: string;
  status: DistributionRequestStatus;
  request_id: string | null;
  message: string;
}

const MESSAGES: Record<DistributionRequestStatus, string> = {
  queued: 'Distribution job queued successfully',
  already_queued: 'A distribution job for this lead is already queued; no second one was added',
  already_distributed: 'The lead has already been distributed; it was not distributed again',
};

export async function requestDistribution(deps: { store: EventStore; bus: CommandBus }, leadId: string, actor: Actor): Promise<DistributionRequestAnswer> {
  const events = await deps.store.readStream(streams.lead(leadId));
  if (events.length === 0) throw new NotFoundError(`Lead ${leadId} is unknown.`, { code: 'LEAD_NOT_FOUND' });
  if (!events.some((e) => e.type === 'LeadApproved')) {
    throw new ValidationError(`Lead ${leadId} is not approved; only approved leads are distributed.`, [], { code: 'LEAD_NOT_APPROVED' });
  }
  if (events.some((e) => e.type === 'DistributionCompleted')) {
    return { lead_id: leadId, status: 'already_distributed', request_id: null, message: MESSAGES.already_distributed };
  }
  const reply = await deps.bus.send('intake', 'request_distribution', { lead_id: leadId, actor });
  return { lead_id: leadId, status: reply.status, request_id: reply.request_id, message: MESSAGES[reply.status] };
}
