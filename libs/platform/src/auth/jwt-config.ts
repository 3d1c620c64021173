/**
 * The bearer-token settings every operator-facing API reads, as one zod fragment, and
 * how they become a token verifier's options. One secret (or JWKS), one issuer and by
 * default one audience for all of them, so a token minted once opens the operator API and
 * ticket-workflow alike; give a service its own JWT_AUDIENCE to scope tokens to it.
 */
import { z } from 'zod';
import { defaultSecretFile, loadOrCreateSecretFile } from './dev-secret';
import type { TokenVerifierOptions } from './verify-token';

export const jwtConfigSchema = z.object({
  JWT_SECRET: z.string().min(32, 'at least 32 characters').optional().describe('HS256 secret of bearer tokens (at least 32 characters); or set JWT_JWKS_URL. Required in production'),
  JWT_SECRET_FILE: z
    .string()
    .min(1)
    .default(defaultSecretFile())
    .meta({
      description: 'outside production, with neither JWT_SECRET nor JWT_JWKS_URL: the local development secret file (created when missing, mode 0600)',
      envDefault: '<FAIRLEAD_DATA_DIR>/auth/jwt-secret',
    }),
  JWT_JWKS_URL: z.url().optional().describe("JWKS endpoint of the identity provider, for asymmetric tokens (RS256, ES256, EdDSA)"),
  JWT_ISSUER: z.string().min(1).default('fairlead').describe('the `iss` every token must carry'),
  JWT_AUDIENCE: z.string().min(1).default('fairlead-operator-api').describe('the `aud` every token must carry (shared by the operator-facing APIs unless set per service)'),
});
export type JwtConfig = z.output<typeof jwtConfigSchema>;

/**
 * The production rule, for `.refine(jwtInProduction.check, jwtInProduction.params)` on a
 * service schema: the development secret file is never used in production.
 */
export const jwtInProduction = {
  check: (c: { NODE_ENV: string; JWT_SECRET?: string | undefined; JWT_JWKS_URL?: string | undefined }): boolean =>
    c.NODE_ENV !== 'production' || c.JWT_SECRET !== undefined || c.JWT_JWKS_URL !== undefined,
  params: { path: ['JWT_SECRET'], message: 'in production, set JWT_SECRET (HS256) or JWT_JWKS_URL' },
};

/** What `resolveTokenVerifierOptions` decided, for the start-up log. */
export interface ResolvedTokenVerifierOptions {
  options: TokenVerifierOptions;
  /** The local development secret file in use, when neither JWT_SECRET nor JWT_JWKS_URL is set. */
  devSecretFile?: string;
}

/**
 * The verifier's options from the configuration: JWT_SECRET and/or JWT_JWKS_URL, or else
 * (outside production, which the schema's rule guarantees) the local development secret.
 */
export async function resolveTokenVerifierOptions(config: Readonly<JwtConfig>): Promise<ResolvedTokenVerifierOptions> {
  const useDevSecret = config.JWT_SECRET === undefined && config.JWT_JWKS_URL === undefined;
  const secret = useDevSecret ? await loadOrCreateSecretFile(config.JWT_SECRET_FILE) : config.JWT_SECRET;
  return {
    options: {
      ...(secret ? { secret } : {}),
      ...(config.JWT_JWKS_URL ? { jwksUrl: config.JWT_JWKS_URL } : {}),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    },
    ...(useDevSecret ? { devSecretFile: config.JWT_SECRET_FILE } : {}),
  };
}
