/**
 * The operators' decisions about one reader of the log, read from its control stream
 * (`projection-<name>`, see @fairlead/contracts operations.ts): the events it must skip
 * (parked) and how many retries were asked for. Read once at start and, while the reader is
 * stalled, every few seconds.
 */
import { parseDistributionEvent, projectionControlStream } from '@fairlead/contracts';
import type { EventStore } from '@fairlead/event-store';

export interface ControlState {
  /** Ids of the events parked for this reader. */
  parked: Set<string>;
  /** Retries asked for so far. */
  retries: number;
  /** Version of the control stream read so far (-1: none). */
  version: number;
}

export const emptyControl = (): ControlState => ({ parked: new Set(), retries: 0, version: -1 });

/** Reads what was appended to the reader's control stream since `state` and folds it in (mutates and returns `state`). */
export async function readControl(store: Pick<EventStore, 'readStream'>, name: string, state: ControlState): Promise<ControlState> {
  const events = await store.readStream(projectionControlStream(name), state.version + 1);
  for (const event of events) {
    state.version = event.streamVersion;
    if (event.type === 'ProjectionEventParked') {
      const parsed = safely(() => parseDistributionEvent('ProjectionEventParked', event.data));
      if (parsed) state.parked.add(parsed.event_id);
    } else if (event.type === 'ProjectionRetryRequested') {
      state.retries++;
    }
  }
  return state;
}

// A malformed control event is ignored: it must not stall the reader it is about.
function safely<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
