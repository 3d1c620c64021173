/**
 * `npm run token -- --role admin --mfa --sub alice --ttl 1h`: a development bearer token
 * for the operator-facing APIs (operator API and ticket-workflow), signed with JWT_SECRET or
 * else the local development secret (the one file both APIs use when no secret is
 * configured). Prints the token alone.
 */
import { z } from 'zod';
import { jwtConfigSchema, loadConfig, loadOrCreateSecretFile, mintToken } from '@fairlead/platform';
import { parseTokenArgs, USAGE, type TokenArgs } from './token-args';

let args: TokenArgs;
try {
  args = parseTokenArgs(process.argv.slice(2));
} catch (error) {
  const reason = error instanceof z.ZodError ? error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n') : (error as Error).message;
  process.stderr.write(`${reason}\n${USAGE}\n`);
  process.exit(2);
}

// The same variables the APIs read (platform's jwtConfigSchema), so a token minted here is one they accept.
const env = loadConfig(jwtConfigSchema.pick({ JWT_SECRET: true, JWT_SECRET_FILE: true, JWT_ISSUER: true, JWT_AUDIENCE: true }));
const secret = env.JWT_SECRET ?? (await loadOrCreateSecretFile(args.secretFile ?? env.JWT_SECRET_FILE));
const token = await mintToken({
  secret,
  issuer: args.issuer ?? env.JWT_ISSUER,
  audience: args.audience ?? env.JWT_AUDIENCE,
  sub: args.sub,
  roles: args.role,
  mfa: args.mfa,
  ttlSec: args.ttl,
});
process.stdout.write(`${token}\n`);
process.stderr.write(`token for ${args.sub} (${args.role.join(', ')}${args.mfa ? ', mfa' : ''}), valid ${args.ttl} s\n`);
