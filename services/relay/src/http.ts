import type { Checkpoint } from '@fairlead/event-store';
import type { HttpSurface } from '@fairlead/platform';
import type { RelayStatus } from './relay';

export interface RelayStatusSource {
  leader(): boolean;
  /** The running relay's status; undefined while this instance waits for leadership. */
  status(): RelayStatus | undefined;
  /** Where the running relay is stalled on an event it cannot publish, or null. */
  stalled(): unknown;
}

const position = (c: Checkpoint) => ({ transaction_id: c.transactionId.toString(), global_position: c.globalPosition.toString() });

/** The relay process's HTTP API (main.ts serves it; the OpenAPI export reads its document). */
export function relayHttp(source: RelayStatusSource): HttpSurface {
  return {
    title: 'Fairlead relay',
    description: 'Publishes every stored event to JetStream, exactly once; one instance leads at a time.',
    routes: (app) =>
      app.get('/v1/relay/status', { schema: { tags: ['relay'], description: 'Whether this instance leads, how far it has published, and the position last stored.' } }, async () => {
        const status = source.status();
        return {
          leader: source.leader(),
          published: status?.published ?? 0,
          checkpoint: status ? position(status.checkpoint) : null,
          stored_checkpoint: status ? position(status.storedCheckpoint) : null,
          stalled: source.stalled(),
        };
      }),
  };
}
