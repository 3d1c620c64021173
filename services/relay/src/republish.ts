/**
 * The relay's command server: `republish` publishes one STORED event again, for the
 * operator API's redrive of a dead-lettered event (docs/operator-api.md, "Dead letters").
 *
 * Only the relay may publish on the event subjects (bus-permissions.ts), so the operator
 * API cannot put a dead letter's payload back itself; it asks here. The event is read
 * from the store by stream and version and must carry the id the request names: what goes
 * out is what was stored, never what a dead letter says, so nothing forged is re-injected.
 * Every relay replica serves it (a queue group answers once): a republish does not move the
 * relay's position, so it needs no leadership.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { Subjects } from '@fairlead/contracts';
import type { EventStore } from '@fairlead/event-store';
import { publishDurable, serveCommands, type RequestServer } from '@fairlead/messaging';
import { ConflictError, NotFoundError } from '@fairlead/platform';
import { encodeOutgoing, MessageTooLargeError } from './envelope';

/** Headers a redriven event carries besides the relay's own (consumers and operators can tell it from the first delivery). */
export const REDRIVE_HEADERS = Object.freeze({ redrivenFrom: 'Fairlead-Redriven-From', redrivenBy: 'Fairlead-Redriven-By' });

export interface RelayCommandsOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  store: EventStore;
  subjects: Subjects;
  logger?: Logger;
  /** The bus's largest message now (e.g. `() => nc.info?.max_payload`). */
  maxPayloadBytes?: () => number | undefined;
}

/** The republished message's msgID: not the event id (that one may still sit in the duplicate window), derived from the redrive so a retry is de-duplicated. */
export const redriveMsgId = (redriveId: string): string => `fairlead-redrive-${redriveId}`;

export function serveRelayCommands(options: RelayCommandsOptions): RequestServer {
  const { store, subjects, js } = options;
  return serveCommands(
    options.nc,
    subjects,
    'relay',
    {
      republish: async ({ event_id, stream, stream_version, redrive_id, actor }) => {
        const [event] = await store.readStream(stream, stream_version, 1);
        if (!event || event.id !== event_id || event.streamVersion !== stream_version) {
          throw new NotFoundError(`No stored event ${event_id} at version ${stream_version} of stream ${stream}; only stored events can be republished.`, { code: 'EVENT_NOT_FOUND' });
        }
        let message;
        try {
          message = encodeOutgoing(subjects, event, options.maxPayloadBytes?.());
        } catch (error) {
          if (error instanceof MessageTooLargeError) throw new ConflictError(error.message, { code: 'EVENT_TOO_LARGE_FOR_BUS' });
          throw error;
        }
        const msgId = redriveMsgId(redrive_id);
        const headers = { ...message.headers, [REDRIVE_HEADERS.redrivenFrom]: redrive_id, [REDRIVE_HEADERS.redrivenBy]: actor.actor_id };
        // Pre-encoded data is sent as-is (publishDurable encodes only what is not bytes already).
        const ack = await publishDurable(js, message.subject, message.data, { msgID: msgId, headers, retry: { attempts: 3 } });
        options.logger?.info({ event_id, subject: message.subject, msg_id: msgId, actor: actor.actor_id, duplicate: ack.duplicate }, 'stored event republished for a redrive');
        return { event_id, subject: message.subject, stream: ack.stream, stream_seq: ack.seq, msg_id: msgId, duplicate: ack.duplicate };
      },
    },
    options.logger,
  );
}
