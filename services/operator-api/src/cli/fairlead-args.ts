/**
 * The `fairlead` read-model commands' arguments, validated with zod (no I/O here). The
 * command line itself is read by the `fairlead` CLI (cli/), which builds one of these
 * objects and parses it here, so the rules live next to the commands that rely on them.
 */
import { z } from 'zod';

const schemaName = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a schema name: lower-case letters, digits and _');

/** A point of the log: a global position (digits) or an ISO 8601 time. */
export type Point = { kind: 'position'; position: bigint } | { kind: 'time'; time: Date };
const point = z.string().transform((v, ctx): Point => {
  if (/^\d+$/.test(v)) return { kind: 'position', position: BigInt(v) };
  if (/^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v))) return { kind: 'time', time: new Date(v) };
  ctx.addIssue({ code: 'custom', message: `not a global position or an ISO time: ${v}` });
  return z.NEVER;
});
const batchSize = z.coerce.number().int().min(1).max(50_000).default(5_000);

export const FairleadArgs = z.discriminatedUnion('command', [
  z
    .object({ command: z.literal('replay'), projection: z.string().min(1), until: point.optional(), into: schemaName.optional(), batchSize })
    .refine((a) => (a.until === undefined) === (a.into === undefined), { message: '--until and --into go together (a past state goes to its own schema)', path: ['into'] })
    .refine((a) => a.into === undefined || a.into !== 'operator', { message: 'the live schema cannot be the target of --into', path: ['into'] }),
  z.object({ command: z.literal('verify'), batchSize }),
  z.object({ command: z.literal('audit-lead'), leadId: z.string().min(1), json: z.boolean().default(false) }),
  z.object({ command: z.literal('audit-export'), from: point, to: point }),
  z
    .object({ command: z.literal('events-tail'), stream: z.string().min(1).optional(), category: z.string().regex(/^[^-]+$/, 'a category has no dash').optional() })
    .refine((a) => !(a.stream && a.category), { message: 'give --stream or --category, not both', path: ['stream'] }),
]);
export type FairleadArgs = z.output<typeof FairleadArgs>;

export class UsageError extends Error {
  readonly code = 'usage';
}
