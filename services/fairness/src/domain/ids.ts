/**
 * Deterministic event ids (UUID v5 of a natural key): a retried append of the same fact
 * carries the same id, so the event store makes it a no-op instead of a duplicate.
 */
import { uuidV5Namespace } from '@fairlead/event-store';

// A fixed namespace for Fairlead's fairness facts (a random v4, chosen once; never change it: stored ids depend on it).
export const uuidV5 = uuidV5Namespace('6f0c1f3e9a8b4d2c8e5f7a1b2c3d4e5f');

export const eventIds = {
  started: (leadId: string) => uuidV5(`distribution-started:${leadId}`),
  selected: (leadId: string, levelId: string, round: number) => uuidV5(`providers-selected:${leadId}:${levelId}:${round}`),
  assigned: (leadId: string, providerId: string) => uuidV5(`lead-assigned:${leadId}:${providerId}`),
  /** Billing's refusal of a pick: one per provider and level (declined in Gold, the provider may still be charged in Bronze). */
  skipped: (leadId: string, providerId: string, levelId: string) => uuidV5(`provider-skipped:${leadId}:${providerId}:${levelId}`),
  /** Picks taken back; `version` is the lead stream's version the event takes (one withdrawal per version). */
  withdrawn: (leadId: string, version: number) => uuidV5(`picks-withdrawn:${leadId}:${version}`),
  completed: (leadId: string) => uuidV5(`distribution-completed:${leadId}`),
  failed: (leadId: string, requestId: string, attempt: number) => uuidV5(`distribution-failed:${leadId}:${requestId}:${attempt}`),
} as const;

/** The assignment's id: one per (lead, provider), whatever retries happen. */
export const assignmentId = (leadId: string, providerId: string): string => uuidV5(`assignment:${leadId}:${providerId}`);
