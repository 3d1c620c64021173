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
