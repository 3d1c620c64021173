/**
 * API keys of upstream systems (they submit approved leads over HTTP; people use JWTs).
 * A key is presented in the `X-Api-Key` header and compared by its SHA-256 digest with
 * `timingSafeEqual` against every configured key, so neither the time taken nor an early
 * exit tells how close a guess was. Several keys may be valid at once, which is how a key
 * is rotated: add the new one, move the upstream system to it, remove the old one. Each
 * key has a name (given, or its digest's first 8 hex digits), recorded as the actor
 * `upstream:<name>` of what its holder does. A configured entry may be the digest alone
 * (`sha256:<64 hex>`), so the service's environment need not hold the key itself.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../errors';

export const API_KEY_HEADER = 'x-api-key';

export interface ApiKey {
  name: string;
  digest: Buffer;
}

/** The caller an API key identifies. */
export interface UpstreamPrincipal {
  /** `upstream:<key name>`: recorded as the actor. */
  sub: string;
  keyName: string;
}

export type ApiKeyVerifier = (presented: string | string[] | undefined) => UpstreamPrincipal;

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
const ENTRY = /^(?:([a-z0-9][a-z0-9_-]{0,63})=)?(?:sha256:([0-9a-f]{64})|([\x21-\x7e]{32,512}))$/;

/**
 * Parses configured entries: `[name=]<key>` (at least 32 printable characters) or
 * `[name=]sha256:<hex digest of the key>`. Throws naming the position of a bad entry, never its text.
 */
export function parseApiKeys(entries: readonly string[]): ApiKey[] {
  const keys = entries.map((entry, i) => {
    const match = ENTRY.exec(entry.trim());
    if (!match) throw new Error(`API key entry ${i + 1} is not "[name=]<key of 32+ printable characters>" or "[name=]sha256:<64 hex digits>"`);
    const digest = match[2] ? Buffer.from(match[2], 'hex') : sha256(match[3]!);
    return { name: match[1] ?? digest.subarray(0, 4).toString('hex'), digest };
  });
  const names = keys.map((k) => k.name);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated) throw new Error(`two API keys are named ${repeated}`);
  return keys;
}

/** The digest form of a key, for configuring a service without the key itself. */
export function apiKeyDigest(key: string): string {
  return `sha256:${sha256(key).toString('hex')}`;
}

export function createApiKeyVerifier(keys: readonly ApiKey[]): ApiKeyVerifier {
  if (keys.length === 0) throw new Error('an API key verifier needs at least one key');
  return (presented) => {
    if (presented === undefined || presented === '') throw new UnauthorizedError('An API key is required (X-Api-Key header).', { code: 'API_KEY_MISSING' });
    if (typeof presented !== 'string') throw new UnauthorizedError('Send one X-Api-Key header.', { code: 'API_KEY_INVALID' });
    const digest = sha256(presented.trim());
    let found: ApiKey | undefined;
    // Every key is compared, match or not.
    for (const key of keys) if (timingSafeEqual(digest, key.digest) && !found) found = key;
    if (!found) throw new UnauthorizedError('The API key is not valid.', { code: 'API_KEY_INVALID' });
    return { sub: `upstream:${found.name}`, keyName: found.name };
  };
}
