import { createHash } from 'node:crypto';
import type { MsgHdrs } from '@nats-io/nats-core';
import { headerValue, toHeaders } from '../codec';
import type { WireIssue } from '../errors';
import type { DeadLetterReason } from './failure-policy';

/** Headers a dead letter carries besides the original message's own. */
export const DeadLetterHeaders = {
  Reason: 'Fairlead-Dlq-Reason',
  Error: 'Fairlead-Dlq-Error',
  /** JSON array of validation issues (malformed messages only). */
  Issues: 'Fairlead-Dlq-Issues',
  Attempts: 'Fairlead-Dlq-Attempts',
  OriginalSubject: 'Fairlead-Dlq-Original-Subject',
  OriginalStream: 'Fairlead-Dlq-Original-Stream',
  OriginalSequence: 'Fairlead-Dlq-Original-Sequence',
  OriginalMsgId: 'Fairlead-Dlq-Original-Msg-Id',
  Consumer: 'Fairlead-Dlq-Consumer',
  FirstFailureAt: 'Fairlead-Dlq-First-Failure-At',
  LastFailureAt: 'Fairlead-Dlq-Last-Failure-At',
  /** Size in bytes of the original payload (also when it is kept whole). */
  PayloadBytes: 'Fairlead-Dlq-Payload-Bytes',
  /** SHA-256 (hex) of the original payload. */
  PayloadSha256: 'Fairlead-Dlq-Payload-Sha256',
  /** `true` when only the start of the payload is kept (it was larger than the dead letter keeps). */
  PayloadTruncated: 'Fairlead-Dlq-Payload-Truncated',
  /** How many of the original headers were left out to keep the dead letter small. */
  HeadersDropped: 'Fairlead-Dlq-Headers-Dropped',
} as const;

/**
 * What a dead letter keeps, so that it always fits the bus (a message near max_payload
 * plus the DLQ headers would not) and is always recorded: the payload whole up to
 * `maxPayloadBytes`, else its first `prefixBytes` with its size and digest; the original
 * headers up to `maxOriginalHeaderBytes`.
 */
export const DEAD_LETTER_LIMITS = Object.freeze({ maxPayloadBytes: 128 * 1024, prefixBytes: 4 * 1024, maxOriginalHeaderBytes: 8 * 1024 });

/** The payload a dead letter carries and what it says about the original. */
export interface BoundedPayload {
  data: Uint8Array;
  bytes: number;
  sha256: string;
  truncated: boolean;
}

/** The original payload, whole when small enough, else its first bytes (see DEAD_LETTER_LIMITS). */
export function boundedPayload(data: Uint8Array, limits: { maxPayloadBytes: number; prefixBytes: number } = DEAD_LETTER_LIMITS): BoundedPayload {
  const sha256 = createHash('sha256').update(data).digest('hex');
  if (data.length <= limits.maxPayloadBytes) return { data, bytes: data.length, sha256, truncated: false };
  return { data: data.subarray(0, limits.prefixBytes), bytes: data.length, sha256, truncated: true };
}

export interface DeadLetterInfo {
  reason: DeadLetterReason;
  error: string;
  issues?: WireIssue[];
  attempts: number;
  originalSubject: string;
  originalStream: string;
  originalSequence: number;
  originalMsgId?: string;
  consumer: string;
  /** First failure this runner saw for the message (a restart between attempts forgets earlier ones). */
  firstFailureAt: Date;
  lastFailureAt: Date;
  /** The original payload's size and digest, and whether only its start is kept (absent on dead letters written before they were recorded). */
  payload?: { bytes: number; sha256: string; truncated: boolean };
  /** Original headers left out (too large to keep). */
  headersDropped?: number;
}

const MAX_ISSUES_HEADER = 4_000;

/**
 * The original headers (minus the `Nats-*` ones the server acts on: a copied
 * Nats-Expected-* would make the dead-letter publish fail) plus the DLQ headers.
 */
export function deadLetterHeaders(original: MsgHdrs | undefined, info: DeadLetterInfo, maxOriginalHeaderBytes = DEAD_LETTER_LIMITS.maxOriginalHeaderBytes): MsgHdrs {
  const h = toHeaders();
  let kept = 0;
  let dropped = 0;
  if (original) {
    for (const [key, values] of original) {
      if (key.toLowerCase().startsWith('nats-')) continue;
      for (const value of values) {
        // Headers count against the bus's max_payload too: a huge one is left out, not copied.
        const size = key.length + value.length + 4;
        if (kept + size > maxOriginalHeaderBytes) {
          dropped++;
          continue;
        }
        kept += size;
        h.append(key, value);
      }
    }
  }
  const D = DeadLetterHeaders;
  h.set(D.Reason, info.reason);
  h.set(D.Error, headerValue(info.error));
  if (info.issues) h.set(D.Issues, issuesHeader(info.issues));
  h.set(D.Attempts, String(info.attempts));
  h.set(D.OriginalSubject, info.originalSubject);
  h.set(D.OriginalStream, info.originalStream);
  h.set(D.OriginalSequence, String(info.originalSequence));
  if (info.originalMsgId) h.set(D.OriginalMsgId, headerValue(info.originalMsgId));
  h.set(D.Consumer, info.consumer);
  h.set(D.FirstFailureAt, info.firstFailureAt.toISOString());
  h.set(D.LastFailureAt, info.lastFailureAt.toISOString());
  if (info.payload) {
    h.set(D.PayloadBytes, String(info.payload.bytes));
    h.set(D.PayloadSha256, info.payload.sha256);
    if (info.payload.truncated) h.set(D.PayloadTruncated, 'true');
  }
  const droppedHeaders = dropped + (info.headersDropped ?? 0);
  if (droppedHeaders > 0) h.set(D.HeadersDropped, String(droppedHeaders));
  return h;
}

// Whole issues are dropped from the end until the JSON fits, so the header stays parseable.
function issuesHeader(issues: WireIssue[]): string {
  const kept = [...issues];
  let json = JSON.stringify(kept);
  while (json.length > MAX_ISSUES_HEADER && kept.length > 1) {
    kept.pop();
    json = JSON.stringify(kept);
  }
  return json.length > MAX_ISSUES_HEADER ? '[]' : json;
}

/** Reads the DLQ headers back (for redrive tooling and tests); undefined when it is not a dead letter. */
export function readDeadLetter(headers: MsgHdrs | undefined): DeadLetterInfo | undefined {
  const D = DeadLetterHeaders;
  const reason = headers?.get(D.Reason);
  if (!headers || !reason) return undefined;
  const issues = headers.get(D.Issues);
  const msgId = headers.get(D.OriginalMsgId);
  const payloadBytes = headers.get(D.PayloadBytes);
  const dropped = headers.get(D.HeadersDropped);
  return {
    reason: reason as DeadLetterReason,
    error: headers.get(D.Error),
    ...(issues ? { issues: JSON.parse(issues) as WireIssue[] } : {}),
    attempts: Number(headers.get(D.Attempts)),
    originalSubject: headers.get(D.OriginalSubject),
    originalStream: headers.get(D.OriginalStream),
    originalSequence: Number(headers.get(D.OriginalSequence)),
    ...(msgId ? { originalMsgId: msgId } : {}),
    consumer: headers.get(D.Consumer),
    firstFailureAt: new Date(headers.get(D.FirstFailureAt)),
    lastFailureAt: new Date(headers.get(D.LastFailureAt)),
    ...(payloadBytes ? { payload: { bytes: Number(payloadBytes), sha256: headers.get(D.PayloadSha256), truncated: headers.get(D.PayloadTruncated) === 'true' } } : {}),
    ...(dropped ? { headersDropped: Number(dropped) } : {}),
  };
}
