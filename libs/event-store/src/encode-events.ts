/**
 * Events as the store writes them: data and metadata as JSON text, checked before any
 * round trip against what the store can hold — a size limit (so that every stored event
 * can still be published on the bus) and what PostgreSQL's jsonb refuses. A refused event
 * fails its own append with a typed error; it never fails the appends grouped with it.
 */
import { EventTooLargeError, InvalidAppendError } from './errors';
import type { NewEvent } from './types';

/**
 * Default largest event: 1 MiB (NATS's default max_payload) less 64 KiB, which the relay's
 * envelope and headers never reach. Lower it with the bus's max_payload (docs/limits.md).
 */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024 - 64 * 1024;

export interface EncodedEvents {
  data: string[];
  metadata: string[];
}

// JSON.stringify escapes only control characters and unpaired surrogates as \uXXXX; jsonb
// refuses \u0000 and an unpaired surrogate. An escape counts unless its backslash is itself escaped.
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;
const unstorable = (json: string): boolean => json.includes('\\u') && UNSTORABLE_ESCAPE.test(json);

/** The events' JSON; throws EventTooLargeError or InvalidAppendError for one the store cannot hold. */
export function encodeEvents(stream: string, events: readonly NewEvent[], maxEventBytes: number): EncodedEvents {
  const data: string[] = [];
  const metadata: string[] = [];
  for (const event of events) {
    let d: string;
    let m: string;
    try {
      d = JSON.stringify(event.data);
      m = JSON.stringify(event.metadata ?? {});
    } catch (error) {
      // Too deep for the stack, a BigInt, a cycle: not JSON the store can keep.
      const reason = error instanceof Error ? error.message : String(error);
      throw new InvalidAppendError(`event ${event.id} (${event.type}) to ${stream} cannot be stored as JSON: ${reason}`, [`events.${event.id}: ${reason}`]);
    }
    // A UTF-16 unit is at most 3 UTF-8 bytes: only a long event needs counting.
    if ((d.length + m.length) * 3 > maxEventBytes) {
      const bytes = Buffer.byteLength(d) + Buffer.byteLength(m);
      if (bytes > maxEventBytes) throw new EventTooLargeError(stream, event.id, event.type, bytes, maxEventBytes);
    }
    if (unstorable(d) || unstorable(m)) {
      const issue = 'holds \\u0000 or an unpaired surrogate, which PostgreSQL jsonb cannot store';
      throw new InvalidAppendError(`event ${event.id} (${event.type}) to ${stream} ${issue}`, [`events.${event.id}: ${issue}`]);
    }
    data.push(d);
    metadata.push(m);
  }
  return { data, metadata };
}
