/** Tokens from an identity provider: keys fetched from a JWKS URL over real HTTP. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../errors';
import { createTokenVerifier, type TokenVerifier } from './verify-token';

let server: Server;
let verify: TokenVerifier;
let privateKey: CryptoKey;
let publicPem: string;
const claims = { issuer: 'https://idp.example', audience: 'fairlead-operator-api' };

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  publicPem = await exportSPKI(pair.publicKey);
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  verify = createTokenVerifier({ jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`, ...claims });
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const sign = (payload: Record<string, unknown>, key: CryptoKey | Uint8Array = privateKey, alg = 'RS256') =>
  new SignJWT(payload).setProtectedHeader({ alg, kid: 'k1' }).setSubject('bob').setIssuer(claims.issuer).setAudience(claims.audience).setIssuedAt().setExpirationTime('5m').sign(key);

async function refusal(authorization: string): Promise<string> {
  try {
    await verify(authorization);
  } catch (error) {
    if (isAppError(error) && error.status === 401) return error.code;
    throw error;
  }
  throw new Error('the token was accepted');
}

describe('JWKS verification', () => {
  it('accepts a token signed by a key of the JWKS, with its roles and MFA', async () => {
    const principal = await verify(`Bearer ${await sign({ roles: ['operator', 'unknown-role'], amr: ['pwd', 'mfa'] })}`);
    expect(principal).toEqual({ sub: 'bob', roles: ['operator'], mfa: true });
    expect(await verify(`Bearer ${await sign({ role: 'viewer' })}`)).toEqual({ sub: 'bob', roles: ['viewer'], mfa: false });
  });

  it('refuses a key outside the JWKS, an HS256 token signed with the public key, and alg none', async () => {
    const stranger = (await generateKeyPair('RS256')).privateKey;
    expect(await refusal(`Bearer ${await sign({ roles: ['admin'] }, stranger)}`)).toBe('TOKEN_INVALID');
    // Algorithm confusion: the public key (known to anyone) used as an HMAC secret.
    expect(await refusal(`Bearer ${await sign({ roles: ['admin'] }, new TextEncoder().encode(publicPem), 'HS256')}`)).toBe('TOKEN_INVALID');
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ sub: 'bob', roles: ['admin'], iss: claims.issuer, aud: claims.audience })).toString('base64url');
    expect(await refusal(`Bearer ${header}.${body}.`)).toBe('TOKEN_INVALID');
  });

  it('refuses a token without an expiry, which would be valid forever', async () => {
    const forever = await new SignJWT({ roles: ['admin'], amr: ['mfa'] }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('bob').setIssuer(claims.issuer).setAudience(claims.audience).setIssuedAt().sign(privateKey);
    expect(await refusal(`Bearer ${forever}`)).toBe('TOKEN_CLAIM_INVALID');
    const hs = createTokenVerifier({ secret: 'a-test-secret-that-is-long-enough-0123456789', ...claims });
    const hsForever = await new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('bob').setIssuer(claims.issuer).setAudience(claims.audience).sign(new TextEncoder().encode('a-test-secret-that-is-long-enough-0123456789'));
    await expect(hs(`Bearer ${hsForever}`)).rejects.toMatchObject({ status: 401, code: 'TOKEN_CLAIM_INVALID', message: expect.stringMatching(/no expiry/) });
  });
});
