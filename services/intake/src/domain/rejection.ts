/**
 * What a rejection says about a payload that failed `LeadApprovedV1`: one reason line per
 * issue, and the lead and niche ids when they can still be read (so the rejection lands on
 * the lead's own stream and can be found by its id).
 */
import { Id } from '@fairlead/contracts';
import { toJsonPointer, type ValidationIssue } from '@fairlead/platform';
import type { z } from 'zod';

export interface Rejection {
  reasons: string[];
  issues: ValidationIssue[];
  lead_id: string | null;
  niche_id: string | null;
}

function readableId(payload: unknown, key: 'lead_id' | 'niche_id'): string | null {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
  const value = (payload as Record<string, unknown>)[key];
  return Id.safeParse(value).success ? (value as string) : null;
}

export function malformedLead(payload: unknown, error: z.ZodError, pointerPrefix = ''): Rejection {
  const issues = error.issues.map((issue) => ({ pointer: pointerPrefix + toJsonPointer(issue.path), detail: issue.message, code: issue.code }));
  return {
    reasons: error.issues.map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`),
    issues,
    lead_id: readableId(payload, 'lead_id'),
    niche_id: readableId(payload, 'niche_id'),
  };
}

export function unknownNiche(leadId: string, nicheId: string, pointerPrefix = ''): Rejection {
  return {
    reasons: [`niche_id: unknown niche ${nicheId}`],
    issues: [{ pointer: `${pointerPrefix}/niche_id`, detail: `unknown niche ${nicheId}`, code: 'unknown_niche' }],
    lead_id: leadId,
    niche_id: nicheId,
  };
}

/** Larger than intake accepts (LEAD_MAX_BYTES): refused before it is parsed any further. */
export function tooLarge(payload: unknown, bytes: number, maxBytes: number, pointerPrefix = ''): Rejection {
  const detail = `the message is ${bytes} bytes; at most ${maxBytes} are accepted`;
  return { reasons: [`(root): ${detail}`], issues: [{ pointer: pointerPrefix, detail, code: 'too_large' }], lead_id: readableId(payload, 'lead_id'), niche_id: readableId(payload, 'niche_id') };
}

/** Nested deeper than intake accepts (LEAD_MAX_DEPTH). */
export function tooDeep(payload: unknown, maxDepth: number, pointerPrefix = ''): Rejection {
  const detail = `the message is nested more than ${maxDepth} levels deep`;
  return { reasons: [`(root): ${detail}`], issues: [{ pointer: pointerPrefix, detail, code: 'too_deep' }], lead_id: readableId(payload, 'lead_id'), niche_id: readableId(payload, 'niche_id') };
}

/** Valid, but the event store cannot hold it (e.g. text PostgreSQL refuses): permanent, never retried. */
export function unstorable(leadId: string, nicheId: string, reason: string, pointerPrefix = ''): Rejection {
  const detail = `the lead cannot be stored: ${reason}`;
  return { reasons: [`(root): ${detail}`], issues: [{ pointer: pointerPrefix, detail, code: 'unstorable' }], lead_id: leadId, niche_id: nicheId };
}
