/**
 * Deterministic event ids (UUID v5 of a natural key): a retried append of the same fact
 * carries the same id, so the event store makes it a no-op instead of a duplicate.
 */
import { createHash } from 'node:crypto';

// A fixed namespace for the rotation service's facts (a random v4, chosen once).
const NAMESPACE = Buffer.from('3b1d9e2a7c5f4a0b9d8e6f5a4b3c2d1e', 'hex');

export function uuidV5(name: string): string {
  const bytes = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const eventIds = {
  nicheCreated: (nicheId: string) => uuidV5(`niche-created:${nicheId}`),
  levelAdded: (nicheId: string, levelId: string) => uuidV5(`level-added:${nicheId}:${levelId}`),
  startLevelClaimed: (leadId: string) => uuidV5(`start-level-claimed:${leadId}`),
} as const;
