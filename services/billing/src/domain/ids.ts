/**
 * Deterministic event ids (UUID v5 of a natural key): a retried append of the same fact
 * carries the same id, so the event store makes it a no-op instead of a duplicate.
 */
import { uuidV5Namespace } from '@fairlead/event-store';

// A fixed namespace for the billing service's facts (a random v4, chosen once; never change it: stored ids depend on it).
export const uuidV5 = uuidV5Namespace('8e4a2c6b1d3f4e5a9b7c0d2e4f6a8b1c');

export const eventIds = {
  providerRegistered: (providerId: string) => uuidV5(`provider-registered:${providerId}`),
  /** One charge decision (charged or declined) per (lead, provider). */
  charge: (leadId: string, providerId: string) => uuidV5(`charge:${leadId}:${providerId}`),
  /** A decision after a decline at another level of the same lead (one per level). */
  chargeAtLevel: (leadId: string, providerId: string, levelId: string) => uuidV5(`charge:${leadId}:${providerId}:${levelId}`),
  topUp: (providerId: string, idempotencyKey: string) => uuidV5(`top-up:${providerId}:${idempotencyKey}`),
  refund: (leadId: string, providerId: string) => uuidV5(`refund:${leadId}:${providerId}`),
} as const;
