import type { z } from 'zod';
import { LeadApprovedV1 } from './lead-approved';

/**
 * The messages that cross service boundaries, by name and schema version. The JSON
 * Schema export (scripts/export-json-schema.ts) writes one file per entry.
 */
export const MESSAGE_SCHEMAS: ReadonlyArray<{ name: string; version: number; schema: z.ZodType }> = [
  { name: 'lead.approved', version: 1, schema: LeadApprovedV1 },
];
