/**
 * Deterministic event ids (UUID v5 of a natural key): a retried append of the same fact
 * carries the same id, so the event store makes it a no-op instead of a duplicate.
 */
import { createHash } from 'node:crypto';

// A fixed namespace for the billing service's facts (a random v4, chosen once).
const NAMESPACE = Buffer.from('8e4a2c6b1d3f4e5a9b7c0d2e4f6a8b1c', 'hex');

export function uuidV5(name: string): string {
  const bytes = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const eventIds = {
  providerRegistered: (providerId: string) => uuidV5(`provider-registered:${providerId}`),
  /** One charge decision (charged or declined) per (lead, provider). */
  charge: (leadId: string, providerId: string) => uuidV5(`charge:${leadId}:${providerId}`),
  topUp: (providerId: string, idempotencyKey: string) => uuidV5(`top-up:${providerId}:${idempotencyKey}`),
  refund: (leadId: string, providerId: string) => uuidV5(`refund:${leadId}:${providerId}`),
} as const;
