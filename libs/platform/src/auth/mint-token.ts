/** Development tokens signed with the local HS256 secret (the `npm run token` CLI and tests). */
import { SignJWT } from 'jose';
import type { Role } from './access';

export interface MintTokenOptions {
  secret: string;
  issuer: string;
  audience: string;
  sub: string;
  roles: readonly Role[];
  /** Adds `mfa` to the `amr` claim. */
  mfa: boolean;
  /** Lifetime in seconds; negative makes an already expired token (tests). */
  ttlSec: number;
  /** Issue time (default now). */
  now?: Date;
}

export async function mintToken(options: MintTokenOptions): Promise<string> {
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ roles: [...options.roles], amr: options.mfa ? ['pwd', 'mfa'] : ['pwd'] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(Math.min(iat, iat + options.ttlSec - 60))
    .setExpirationTime(iat + options.ttlSec)
    .sign(new TextEncoder().encode(options.secret));
}
