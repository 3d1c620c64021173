import type { EventStore } from '@fairlead/event-store';
import { compareCheckpoints, type RunningProjector } from '@fairlead/projections';
import type { ReadModelSync } from './context';

/**
 * Read-your-writes over an asynchronous projector: after an append, wait until the
 * projector's checkpoint has passed the appended event. Bounded: after `timeoutMs` the
 * caller goes on (the read models catch up on their own).
 */
export function projectorSync(store: EventStore, projector: RunningProjector, { timeoutMs = 5_000, pollMs = 5 } = {}): ReadModelSync {
  return {
    async waitFor(stream, version) {
      const [event] = await store.readStream(stream, version, 1);
      if (!event) return;
      const target = { transactionId: event.transactionId, globalPosition: event.globalPosition };
      const deadline = Date.now() + timeoutMs;
      // The projector spaces its reads (50 ms); this caller knows there is something to read.
      if (compareCheckpoints(projector.position(), target) < 0) projector.readNow();
      while (compareCheckpoints(projector.position(), target) < 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    },
  };
}
