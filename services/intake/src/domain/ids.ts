/**
 * Deterministic ids (UUID v5 of a natural key): a retried append of the same fact carries
 * the same id, so the event store makes it a no-op instead of a duplicate.
 */
import { uuidV5Namespace } from '@fairlead/event-store';

// A fixed namespace for the intake service's facts (a random v4, chosen once; never change it: stored ids depend on it).
export const uuidV5 = uuidV5Namespace('c2f7a9e41b8d4c3a8f6e5d4c3b2a1908');

export const ids = {
  approved: (leadId: string) => uuidV5(`lead-approved:${leadId}`),
  /** The request made automatically on approval. */
  autoRequest: (leadId: string) => uuidV5(`auto-distribution:${leadId}`),
  requested: (leadId: string, requestId: string) => uuidV5(`distribution-requested:${leadId}:${requestId}`),
  /** A rejection of one delivered message (its message id), so a redelivery records nothing new. */
  rejected: (messageId: string) => uuidV5(`lead-rejected:${messageId}`),
  /** The stream id of a rejection whose lead id is unreadable. */
  rejectedStream: (messageId: string) => uuidV5(`rejected-lead-stream:${messageId}`),
} as const;
