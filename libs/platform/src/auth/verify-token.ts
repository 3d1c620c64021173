/**
 * Bearer token verification with jose: HS256 with a shared secret, or any asymmetric
 * algorithm with keys from a JWKS URL. Issuer, audience, expiry and signature are all
 * checked, and a token without an expiry (`exp`) is refused: it would be valid forever,
 * however it leaked. The claims we use are validated with zod. Every failure is a 401 with a
 * stable code and a short reason — never the library's internals.
 */
import { createSecretKey } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { UnauthorizedError } from '../errors';
import { ROLES, type Principal, type Role } from './access';

export interface TokenVerifierOptions {
  /** HS256 shared secret (development and single-tenant installs). */
  secret?: string;
  /** JWKS endpoint of an identity provider (RS256/ES256/EdDSA tokens). */
  jwksUrl?: string;
  issuer: string;
  audience: string;
  /** Leeway for clock skew between issuer and us, in seconds. */
  clockToleranceSec?: number;
}

export type TokenVerifier = (authorization: string | undefined) => Promise<Principal>;

const Claims = z.object({
  sub: z.string().min(1).max(200),
  roles: z.array(z.string()).optional(),
  role: z.string().optional(),
  amr: z.array(z.string()).optional(),
});

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  if (!options.secret && !options.jwksUrl) throw new Error('a token verifier needs a secret or a JWKS URL');
  // A KeyObject made once: jose would otherwise import the raw secret on every request.
  const secret = options.secret ? createSecretKey(Buffer.from(options.secret, 'utf8')) : undefined;
  const jwks: JWTVerifyGetKey | undefined = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined;
  const common = { issuer: options.issuer, audience: options.audience, clockTolerance: options.clockToleranceSec ?? 5, requiredClaims: ['exp'] };

  return async (authorization) => {
    const token = bearerToken(authorization);
    let payload: unknown;
    try {
      // A token whose header says HS256 is checked against the secret, any other against the JWKS,
      // so an RS256 public key can never be used as an HMAC secret (algorithm confusion).
      const alg = headerAlg(token);
      if (alg === 'HS256' && secret) payload = (await jwtVerify(token, secret, { ...common, algorithms: ['HS256'] })).payload;
      else if (jwks && alg !== 'HS256') payload = (await jwtVerify(token, jwks, { ...common, algorithms: ASYMMETRIC })).payload;
      else throw new UnauthorizedError(`Tokens signed with ${alg ?? 'an unknown algorithm'} are not accepted here.`, { code: 'TOKEN_INVALID' });
    } catch (error) {
      throw toUnauthorized(error);
    }
    const claims = Claims.safeParse(payload);
    if (!claims.success) throw new UnauthorizedError('The token lacks a subject (sub) or has malformed claims.', { code: 'TOKEN_INVALID' });
    const named = [...(claims.data.roles ?? []), ...(claims.data.role ? [claims.data.role] : [])];
    const roles = named.filter((r): r is Role => (ROLES as readonly string[]).includes(r));
    return { sub: claims.data.sub, roles: [...new Set(roles)], mfa: claims.data.amr?.includes('mfa') ?? false };
  };
}

function bearerToken(authorization: string | undefined): string {
  if (!authorization) throw new UnauthorizedError('A bearer token is required (Authorization: Bearer <jwt>).', { code: 'TOKEN_MISSING' });
  const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)\s*$/i.exec(authorization);
  if (!match?.[1]) throw new UnauthorizedError('The Authorization header must be "Bearer <jwt>".', { code: 'TOKEN_MALFORMED' });
  return match[1];
}

function headerAlg(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: unknown };
    return typeof header.alg === 'string' ? header.alg : undefined;
  } catch {
    return undefined;
  }
}

function toUnauthorized(error: unknown): UnauthorizedError {
  if (error instanceof UnauthorizedError) return error;
  if (error instanceof errors.JWTExpired) return new UnauthorizedError('The token has expired.', { code: 'TOKEN_EXPIRED', cause: error });
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'exp' && error.reason === 'missing') {
    return new UnauthorizedError('The token has no expiry (exp); only tokens that expire are accepted.', { code: 'TOKEN_CLAIM_INVALID', cause: error });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new UnauthorizedError(`The token's "${error.claim}" claim is not accepted.`, { code: 'TOKEN_CLAIM_INVALID', cause: error });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new UnauthorizedError('The token signature does not verify.', { code: 'TOKEN_INVALID', cause: error });
  if (error instanceof errors.JWKSNoMatchingKey) return new UnauthorizedError('No known key signed this token.', { code: 'TOKEN_INVALID', cause: error });
  return new UnauthorizedError('The token is not valid.', { code: 'TOKEN_INVALID', cause: error });
}
