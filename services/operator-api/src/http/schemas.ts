/** Pieces of request and response schemas shared by the routes (zod, rendered into OpenAPI). */
import { z } from 'zod';
import { Id } from '@fairlead/contracts';
import { ProblemSchema, withResponseHeaders } from '@fairlead/platform';

export { Id };

/** Timestamps travel as ISO 8601 strings. */
export const Time = z.string().describe('ISO 8601 timestamp');
export const iso = (d: Date): string => d.toISOString();
export const isoOrNull = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

export const Limit = (max = 200, byDefault = 50) => z.coerce.number().int().min(1).max(max).default(byDefault).describe(`page size (1..${max})`);
export const Cursor = z.string().max(500).optional().describe('opaque cursor from the previous page (next_cursor)');
export const TimeQuery = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
export const NextCursor = z.string().nullable().describe('pass as `cursor` for the next page; null on the last page');

const problems = {
  400: ProblemSchema.describe('invalid input'),
  401: ProblemSchema.describe('no valid bearer token'),
  403: ProblemSchema.describe('role or MFA missing'),
  404: ProblemSchema.describe('not found'),
  409: ProblemSchema.describe('conflicts with the current state'),
  412: ProblemSchema.describe('the If-Match ETag is stale'),
  428: ProblemSchema.describe('If-Match is required'),
  429: ProblemSchema.describe('rate limited'),
  500: ProblemSchema.describe('the answer cannot be assembled from what is stored; the code says why'),
  502: ProblemSchema.describe('the owning service refused the command'),
  503: ProblemSchema.describe('the owning service is not running'),
  504: ProblemSchema.describe('the owning service did not answer in time'),
} as const;
type ProblemStatus = keyof typeof problems;

/** Problem responses of a route, always including 401, 403 and 429. */
export function problemResponses(...statuses: ProblemStatus[]): Partial<Record<ProblemStatus, typeof ProblemSchema>> {
  const out: Partial<Record<ProblemStatus, typeof ProblemSchema>> = {};
  for (const s of [400, 401, 403, 429, ...statuses] as ProblemStatus[]) out[s] = problems[s];
  return out;
}

/** The problem responses of a command route (the owner may refuse, be down or be slow). */
export const COMMAND_PROBLEMS = [404, 409, 502, 503, 504] as const;

// Required: a missing one answers 428 (the platform checks it before validation), a malformed one 400.
export const IfMatchHeaders = z.object({ 'if-match': z.string().describe('the ETag of the resource as read') });

/** A response carrying the resource's version as its ETag (send it back in If-Match to change it). */
export const withEtag = <T extends z.ZodType>(schema: T): T => withResponseHeaders(schema, { ETag: { description: "the resource's version; send it as If-Match to change it" } });

export const cents = (c: number): number => Math.round(c) / 100;
