/**
 * token: a development bearer token for the operator-facing APIs (operator API and
 * ticket-workflow), signed with JWT_SECRET or else the local development secret file (the
 * one both APIs use when no secret is configured). Prints the token alone on stdout.
 */
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { defined, examples, validate, type CliIo } from '../command-kit';
import { readEnv } from '../settings';
import { TOKEN_ROLES as ROLES } from '../valid-values';

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
  role: z.array(z.enum(ROLES)).min(1, `give --role ${ROLES.join(', ')}`),
  mfa: z.boolean().default(false),
  sub: z.string().min(1).max(200).default('dev'),
  ttl: Ttl.default(3600),
  issuer: z.string().min(1).optional(),
  audience: z.string().min(1).optional(),
  secretFile: z.string().min(1).optional(),
});
export type TokenArgs = z.output<typeof TokenArgs>;

export function registerTokenCommand(program: Command, io: CliIo): void {
  const token = program
    .command('token')
    .summary('mint a development bearer token for the operator API and ticket-workflow')
    .description(
      `Mint a bearer token for the operator-facing APIs, signed with JWT_SECRET or else the local development
secret (<FAIRLEAD_DATA_DIR>/auth/jwt-secret, the file the APIs use when no secret is configured; created
when missing). Prints the token alone on stdout; a note of what it grants on stderr.
Changes (operate, admin) need a token with --mfa.`,
    )
    .addOption(new Option('--role <role...>', 'role(s) the token grants (repeatable)').choices(ROLES))
    .option('--mfa', 'mark the token as MFA-verified (needed for every change)')
    .option('--sub <name>', 'the subject: who the audit log says acted', 'dev')
    .option('--ttl <duration>', 'lifetime: 90, 30s, 15m, 1h or 7d (at most 30d)', '1h')
    .option('--issuer <iss>', 'the `iss` claim (default: JWT_ISSUER or fairlead)')
    .option('--audience <aud>', 'the `aud` claim (default: JWT_AUDIENCE or fairlead-operator-api)')
    .option('--secret-file <path>', 'sign with the secret in this file (created when missing) instead of JWT_SECRET / the local one')
    .action(async (o: { role?: string[]; mfa?: boolean; sub?: string; ttl?: string; issuer?: string; audience?: string; secretFile?: string }, cmd: Command) => {
      const args = validate(cmd, TokenArgs, defined({ ...o, role: o.role ?? [] }));
      // Platform (signing, the secret file) is loaded only when a token is minted, so that --help stays quick.
      const { jwtConfigSchema, loadOrCreateSecretFile, mintToken } = await import('@fairlead/platform');
      // The same variables the APIs read, so a token minted here is one they accept.
      const { localJwtSecretFile } = await import('../local-defaults');
      const env = { ...io.env, JWT_SECRET_FILE: localJwtSecretFile(io.env) };
      const config = readEnv(jwtConfigSchema.pick({ JWT_SECRET: true, JWT_SECRET_FILE: true, JWT_ISSUER: true, JWT_AUDIENCE: true }), env);
      const secret = args.secretFile ? await loadOrCreateSecretFile(args.secretFile) : (config.JWT_SECRET ?? (await loadOrCreateSecretFile(config.JWT_SECRET_FILE)));
      const jwt = await mintToken({ secret, issuer: args.issuer ?? config.JWT_ISSUER, audience: args.audience ?? config.JWT_AUDIENCE, sub: args.sub, roles: args.role, mfa: args.mfa, ttlSec: args.ttl });
      io.stdout.write(`${jwt}\n`);
      io.stderr.write(`token for ${args.sub} (${args.role.join(', ')}${args.mfa ? ', mfa' : ''}), valid ${args.ttl} s\n`);
      io.exit(0);
    });
  examples(token, [
    'fairlead token --role viewer',
    'fairlead token --role admin --mfa --sub alice --ttl 1h',
    'curl -H "Authorization: Bearer $(npm run -s token -- --role viewer)" http://127.0.0.1:7100/api/v1/admin/niches',
  ]);
}
