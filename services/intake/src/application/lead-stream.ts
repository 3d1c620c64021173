/** Reads a lead's stream into intake's view of it; every event intake reads is validated against its contract. */
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import type { EventStore, StoredEvent } from '@fairlead/event-store';
import { evolveLead, initialLeadState, LEAD_EVENT_TYPES, type LeadEvent, type LeadState } from '../domain/lead';

export function foldLead(events: readonly StoredEvent[]): LeadState {
  let state = initialLeadState();
  for (const e of events) {
    const event: LeadEvent = LEAD_EVENT_TYPES.has(e.type)
      ? ({ type: e.type, data: parseDistributionEvent(e.type as Exclude<LeadEvent['type'], 'other'>, e.data) } as LeadEvent)
      : { type: 'other' };
    state = evolveLead(state, event, e.streamVersion);
  }
  return state;
}

export async function loadLead(store: EventStore, leadId: string): Promise<LeadState> {
  return foldLead(await store.readStream(streams.lead(leadId)));
}
