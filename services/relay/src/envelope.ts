import { RELAY_HEADERS, streamCategory, type RelayedEvent, type Subjects } from '@fairlead/contracts';
import type { StoredEvent } from '@fairlead/event-store';

export interface OutgoingMessage {
  subject: string;
  msgID: string;
  payload: RelayedEvent;
  headers: Record<string, string>;
}

const UNSAFE_TOKEN = /[^A-Za-z0-9_-]/g;

/** The JetStream message for one stored event: subject from its category and type, msgID = event id. */
export function toOutgoingMessage(subjects: Subjects, event: StoredEvent): OutgoingMessage {
  // Subject tokens cannot hold '.', '*', '>' or spaces; the payload keeps the exact names.
  const category = streamCategory(event.stream).replace(UNSAFE_TOKEN, '_') || '_';
  const type = event.type.replace(UNSAFE_TOKEN, '_') || '_';
  return {
    subject: subjects.eventSubject(category, type),
    msgID: event.id,
    payload: {
      event_id: event.id,
      stream: event.stream,
      type: event.type,
      stream_version: event.streamVersion,
      global_position: event.globalPosition.toString(),
      transaction_id: event.transactionId.toString(),
      created_at: event.createdAt.toISOString(),
      data: event.data,
      metadata: event.metadata,
    },
    headers: {
      [RELAY_HEADERS.eventType]: event.type,
      [RELAY_HEADERS.stream]: event.stream,
      [RELAY_HEADERS.globalPosition]: event.globalPosition.toString(),
    },
  };
}

/** An outgoing message with its payload encoded, checked against the bus's max_payload. */
export interface EncodedMessage {
  subject: string;
  msgID: string;
  data: Uint8Array;
  headers: Record<string, string>;
}

/** Room kept for the headers the publish adds (Nats-Msg-Id, Nats-Expected-Stream, the page's Nats-Expected-Last-Msg-Id, trace context) and the protocol's own. */
const HEADER_ALLOWANCE = 1_024;
const encoder = new TextEncoder();

/** The message of an event that does not fit the bus: the relay stalls on it rather than fail. */
export class MessageTooLargeError extends Error {
  readonly code = 'RELAY_MESSAGE_TOO_LARGE';
  constructor(
    readonly eventId: string,
    readonly bytes: number,
    readonly maxPayload: number,
  ) {
    super(`the message of event ${eventId} is about ${bytes} bytes; the bus accepts at most ${maxPayload} (max_payload)`);
    this.name = 'MessageTooLargeError';
  }
}

/** toOutgoingMessage with the payload encoded once; throws MessageTooLargeError when it would pass `maxPayload`. */
export function encodeOutgoing(subjects: Subjects, event: StoredEvent, maxPayload: number | undefined): EncodedMessage {
  const message = toOutgoingMessage(subjects, event);
  const data = encoder.encode(JSON.stringify(message.payload));
  if (maxPayload !== undefined) {
    let size = data.length + HEADER_ALLOWANCE + message.msgID.length;
    for (const [key, value] of Object.entries(message.headers)) size += key.length + value.length + 4;
    if (size > maxPayload) throw new MessageTooLargeError(event.id, size, maxPayload);
  }
  return { subject: message.subject, msgID: message.msgID, data, headers: message.headers };
}
