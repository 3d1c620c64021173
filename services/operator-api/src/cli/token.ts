/**
 * `npm run token -- --role admin --mfa --sub alice --ttl 1h`: a development bearer token
 * for the operator API, signed with JWT_SECRET or else the local development secret
 * (the file the API itself uses when no secret is configured). Prints the token alone.
 */
import { z } from 'zod';
import { loadConfig } from '@fairlead/platform';
import { defaultSecretFile, loadOrCreateSecretFile } from '../auth/dev-secret';
import { mintToken } from '../auth/mint-token';
import { parseTokenArgs, USAGE, type TokenArgs } from './token-args';

let args: TokenArgs;
try {
  args = parseTokenArgs(process.argv.slice(2));
} catch (error) {
  const reason = error instanceof z.ZodError ? error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n') : (error as Error).message;
  process.stderr.write(`${reason}\n${USAGE}\n`);
  process.exit(2);
}

// The same variables the API reads (config.ts), so a token minted here is one it accepts.
const env = loadConfig(
  z.object({
    JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
    JWT_SECRET_FILE: z.string().min(1).default(defaultSecretFile()),
    JWT_ISSUER: z.string().min(1).default('fairlead'),
    JWT_AUDIENCE: z.string().min(1).default('fairlead-operator-api'),
  }),
);
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
