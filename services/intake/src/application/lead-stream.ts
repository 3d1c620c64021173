/** Reads a lead's stream into intake's view of it; every event intake reads is validated against its contract. */
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { loadStream, type Loaded } from '@fairlead/event-sourcing';
import type { EventStore, StoredEvent } from '@fairlead/event-store';
import { LEAD_EVENT_TYPES, type LeadEvent, type LeadState } from '../domain/lead';
import { leadDecider } from '../domain/lead.decider';

/** A stored event as intake reads it: its own kinds parsed, every other kind `other` (it still moves the version). */
export function decodeLeadEvent(e: StoredEvent): LeadEvent {
  return LEAD_EVENT_TYPES.has(e.type)
    ? ({ type: e.type, data: parseDistributionEvent(e.type as Exclude<LeadEvent['type'], 'other'>, e.data) } as LeadEvent)
    : { type: 'other', data: null };
}

export async function loadLeadStream(store: Pick<EventStore, 'readStream'>, leadId: string): Promise<Loaded<LeadState>> {
  return loadStream(store, streams.lead(leadId), leadDecider, decodeLeadEvent);
}

export async function loadLead(store: Pick<EventStore, 'readStream'>, leadId: string): Promise<LeadState> {
  return (await loadLeadStream(store, leadId)).state;
}
