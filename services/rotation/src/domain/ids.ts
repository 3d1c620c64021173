/**
 * Deterministic event ids (UUID v5 of a natural key): a retried append of the same fact
 * carries the same id, so the event store makes it a no-op instead of a duplicate.
 */
import { uuidV5Namespace } from '@fairlead/event-store';

// A fixed namespace for the rotation service's facts (a random v4, chosen once; never change it: stored ids depend on it).
export const uuidV5 = uuidV5Namespace('3b1d9e2a7c5f4a0b9d8e6f5a4b3c2d1e');

export const eventIds = {
  nicheCreated: (nicheId: string) => uuidV5(`niche-created:${nicheId}`),
  levelAdded: (nicheId: string, levelId: string) => uuidV5(`level-added:${nicheId}:${levelId}`),
  startLevelClaimed: (leadId: string) => uuidV5(`start-level-claimed:${leadId}`),
} as const;
