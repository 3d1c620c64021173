/**
 * Deterministic event ids: UUID v5 (RFC 4122, SHA-1) of a natural key within a namespace,
 * so a retried append of the same fact carries the same id and the store makes it a no-op
 * instead of a duplicate. Each service has its own namespace (a random v4, chosen once and
 * never changed: stored events carry ids made with it).
 */
import { createHash } from 'node:crypto';

/** A UUID v5 generator for one namespace (`namespace`: the UUID as 32 hex digits, dashes allowed). */
export function uuidV5Namespace(namespace: string): (name: string) => string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new Error(`a UUID namespace is 16 bytes, got ${ns.length} from ${namespace}`);
  return (name) => {
    const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
    bytes[6] = (bytes[6]! & 0x0f) | 0x50;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}
