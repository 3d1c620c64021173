/**
 * What a LeadRejected keeps of the refused payload: the payload itself when it is small
 * and plain enough to store, else a summary (size, SHA-256, the start of its text) — a
 * rejection must always be recordable, whatever was sent.
 */
import { createHash } from 'node:crypto';
import { jsonDepth, LEAD_LIMITS, type DistributionEventData } from '@fairlead/contracts';

type PayloadSummary = NonNullable<DistributionEventData<'LeadRejected'>['payload_summary']>;

/** A rejected payload up to this size (as JSON) is kept whole. */
export const REJECTED_PAYLOAD_KEEP_BYTES = 16 * 1024;
const PREFIX_CHARS = 2_048;

/** The payload's JSON, or undefined when it has none (nested too deep to write, not JSON-able). */
export function jsonOf(payload: unknown): string | undefined {
  try {
    return JSON.stringify(payload ?? null);
  } catch {
    return undefined;
  }
}

// PostgreSQL's jsonb refuses NUL and unpaired surrogates (a cut may split a pair, too).
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const storableText = (text: string): string => text.replaceAll('\u0000', '\ufffd').replace(UNPAIRED_SURROGATE, '\ufffd');

/** Size, digest and the start of the text; the text made storable (no NUL, no unpaired surrogate). */
export function summarize(payload: unknown, raw: Uint8Array | undefined): PayloadSummary {
  const bytes = raw ?? Buffer.from(jsonOf(payload) ?? '');
  const text = Buffer.from(bytes.subarray(0, PREFIX_CHARS * 4)).toString('utf8').slice(0, PREFIX_CHARS);
  return {
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    prefix: storableText(text),
  };
}

/** The payload to record, or null with a summary. `whole: false` forces the summary (the payload itself could not be stored). */
export function payloadForRejection(payload: unknown, raw: Uint8Array | undefined, whole = true): { payload: unknown; payload_summary?: PayloadSummary } {
  if (whole && jsonDepth(payload, LEAD_LIMITS.maxDepth) <= LEAD_LIMITS.maxDepth) {
    const json = raw && raw.length > REJECTED_PAYLOAD_KEEP_BYTES ? undefined : jsonOf(payload);
    if (json !== undefined && Buffer.byteLength(json) <= REJECTED_PAYLOAD_KEEP_BYTES) return { payload: payload ?? null };
  }
  return { payload: null, payload_summary: summarize(payload, raw) };
}
