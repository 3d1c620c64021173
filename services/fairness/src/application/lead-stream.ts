/**
 * Reading and writing a lead's stream for the distribution: every event read is
 * validated against its contract, and every append checks the version the decision was
 * made on, so a concurrent writer makes us re-read and re-decide instead of overwrite.
 */
import type pg from 'pg';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import type { NewEvent, PostgresEventStore, StoredEvent } from '@fairlead/event-store';
import { evolveDistribution, initialDistributionState, isLeadEventType, type DistributionState, type LeadEvent } from '../domain/distribution-state';

/** Parses the events of a lead stream that the distribution reads; others only advance the version. */
export function foldLeadStream(events: readonly StoredEvent[]): DistributionState {
  let state = initialDistributionState();
  for (const e of events) {
    if (!isLeadEventType(e.type)) {
      state = { ...state, version: e.streamVersion };
      continue;
    }
    const event = { type: e.type, data: parseDistributionEvent(e.type, e.data) } as LeadEvent;
    state = evolveDistribution(state, event, e.streamVersion);
  }
  return state;
}

export async function loadDistribution(store: PostgresEventStore, leadId: string): Promise<DistributionState> {
  return foldLeadStream(await store.readStream(streams.lead(leadId)));
}

export interface PendingEvent {
  id: string;
  event: LeadEvent;
}

export interface AppendedEvents {
  state: DistributionState;
  /** False when every event was already stored (an idempotent re-append). */
  appended: boolean;
}

/**
 * Appends on `client` (inside the caller's transaction when one is open) with the
 * state's version as the expected one, and evolves the state by what was written.
 * Throws ConcurrencyError / EventIdConflictError when someone else wrote first.
 */
export async function appendToLead(
  store: PostgresEventStore,
  client: pg.ClientBase,
  leadId: string,
  state: DistributionState,
  events: readonly PendingEvent[],
  metadata: Record<string, unknown> = {},
): Promise<AppendedEvents> {
  if (events.length === 0) return { state, appended: false };
  const newEvents: NewEvent[] = events.map(({ id, event }) => ({ id, type: event.type, data: event.data, metadata }));
  const result = await store.appendInTransaction(client, streams.lead(leadId), newEvents, state.version === -1 ? 'no_stream' : state.version);
  if (result.appended === 0) {
    // Already stored by an earlier attempt: the stream, not our guess, says where it stands.
    return { state: await loadDistribution(store, leadId), appended: false };
  }
  let next = state;
  events.forEach(({ event }, i) => {
    next = evolveDistribution(next, event, state.version + 1 + i);
  });
  return { state: next, appended: true };
}
