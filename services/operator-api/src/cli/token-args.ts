/** Arguments of `npm run token`, parsed and validated (pure, so it is unit-tested). */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ROLES } from '@fairlead/platform';

const UNIT_SEC = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** `90`, `30s`, `15m`, `1h`, `7d` → seconds (at most 30 days: these are development tokens). */
export const Ttl = z
  .string()
  .regex(/^\d+[smhd]?$/, 'a duration like 30s, 15m, 1h or 7d')
  .transform((v) => {
    const unit = /[smhd]$/.test(v) ? (v.slice(-1) as keyof typeof UNIT_SEC) : 's';
    return Number.parseInt(v, 10) * UNIT_SEC[unit];
  })
  .pipe(z.number().int().positive().max(30 * 86_400, 'at most 30 days'));

export const TokenArgs = z.object({
  role: z.array(z.enum(ROLES)).min(1, 'give --role viewer, operator or admin'),
  mfa: z.boolean().default(false),
  sub: z.string().min(1).max(200).default('dev'),
  ttl: Ttl.default(3600),
  issuer: z.string().min(1).optional(),
  audience: z.string().min(1).optional(),
  secretFile: z.string().min(1).optional(),
});
export type TokenArgs = z.output<typeof TokenArgs>;

export const USAGE = `usage: npm run token -- --role <viewer|operator|admin> [--mfa] [--sub <name>] [--ttl 1h]
       [--issuer fairlead] [--audience fairlead-operator-api] [--secret-file <path>]
Signs with JWT_SECRET, or else the local development secret file. Prints the token alone.`;

/** Throws a ZodError (or parseArgs' TypeError) naming what is wrong. */
export function parseTokenArgs(argv: readonly string[]): TokenArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      role: { type: 'string', multiple: true },
      mfa: { type: 'boolean' },
      sub: { type: 'string' },
      ttl: { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      'secret-file': { type: 'string' },
    },
  });
  const { 'secret-file': secretFile, ...rest } = values;
  return TokenArgs.parse({ ...rest, role: rest.role ?? [], ...(secretFile === undefined ? {} : { secretFile }) });
}
