/** Arguments of the `fairlead` CLI, validated with zod (no I/O here). */
import { parseArgs } from 'node:util';
import { z } from 'zod';

export const FAIRLEAD_USAGE = `usage: npm run fairlead -- <command>
  replay <projection|all> [--until <global position|ISO time> --into <schema>] [--batch-size N]
  verify [--batch-size N]
  audit lead <lead id> [--json]
  audit export --from <position|ISO time> --to <position|ISO time>
  events tail [--stream <name> | --category <category>]
environment: DATABASE_URL (required), EVENT_STORE_SCHEMA (default eventstore)`;

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

export function parseFairleadArgs(argv: readonly string[]): FairleadArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      until: { type: 'string' },
      into: { type: 'string' },
      'batch-size': { type: 'string' },
      json: { type: 'boolean' },
      from: { type: 'string' },
      to: { type: 'string' },
      stream: { type: 'string' },
      category: { type: 'string' },
    },
  });
  const [a, b, c, ...extra] = positionals;
  const common = { batchSize: values['batch-size'] };
  let raw: Record<string, unknown>;
  if (a === 'replay') raw = { command: 'replay', projection: b, until: values.until, into: values.into, ...common, extra: c };
  else if (a === 'verify') raw = { command: 'verify', ...common, extra: b };
  else if (a === 'audit' && b === 'lead') raw = { command: 'audit-lead', leadId: c, json: values.json };
  else if (a === 'audit' && b === 'export') raw = { command: 'audit-export', from: values.from, to: values.to, extra: c };
  else if (a === 'events' && b === 'tail') raw = { command: 'events-tail', stream: values.stream, category: values.category, extra: c };
  else throw new UsageError(a ? `unknown command: ${[a, b].filter(Boolean).join(' ')}` : 'no command given');
  if (raw.extra !== undefined || extra.length > 0) throw new UsageError(`unexpected argument: ${String(raw.extra ?? extra[0])}`);
  delete raw.extra;
  return FairleadArgs.parse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
}
