/**
 * Deterministic ids (UUID v5 of a natural key): a retried append of the same fact carries
 * the same id, so the event store makes it a no-op instead of a duplicate.
 */
import { createHash } from 'node:crypto';

// A fixed namespace for the intake service's facts (a random v4, chosen once).
const NAMESPACE = Buffer.from('c2f7a9e41b8d4c3a8f6e5d4c3b2a1908', 'hex');

export function uuidV5(name: string): string {
  const bytes = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

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
