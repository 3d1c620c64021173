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
} as const;

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
}

const MAX_ISSUES_HEADER = 4_000;

/**
 * The original headers (minus the `Nats-*` ones the server acts on: a copied
 * Nats-Expected-* would make the dead-letter publish fail) plus the DLQ headers.
 */
export function deadLetterHeaders(original: MsgHdrs | undefined, info: DeadLetterInfo): MsgHdrs {
  const h = toHeaders();
  if (original) {
    for (const [key, values] of original) {
      if (key.toLowerCase().startsWith('nats-')) continue;
      for (const value of values) h.append(key, value);
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
  };
}
