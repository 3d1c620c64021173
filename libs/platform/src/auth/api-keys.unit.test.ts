import { describe, expect, it } from 'vitest';
import { isAppError } from '../errors';
import { apiKeyDigest, createApiKeyVerifier, parseApiKeys } from './api-keys';

const keyA = 'a'.repeat(20) + '-first-upstream-key-0123456789';
const keyB = 'second-upstream-key-for-rotation-0123456789';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isAppError(error) && error.status === 401) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('upstream API keys', () => {
  it('accepts each configured key (two at once while one is rotated), named or by digest, and names the caller', () => {
    const verify = createApiKeyVerifier(parseApiKeys([`crm=${keyA}`, apiKeyDigest(keyB)]));
    expect(verify(keyA)).toEqual({ sub: 'upstream:crm', keyName: 'crm' });
    const byDigest = verify(keyB);
    expect(byDigest.sub).toMatch(/^upstream:[0-9a-f]{8}$/);
    expect(apiKeyDigest(keyB)).toContain(byDigest.keyName);
  });

  it('refuses a missing, wrong, repeated or near-miss key with 401 and a stable code', () => {
    const verify = createApiKeyVerifier(parseApiKeys([keyA]));
    expect(refusal(() => verify(undefined))).toBe('API_KEY_MISSING');
    expect(refusal(() => verify(''))).toBe('API_KEY_MISSING');
    expect(refusal(() => verify(keyA.slice(0, -1)))).toBe('API_KEY_INVALID');
    expect(refusal(() => verify(`${keyA}x`))).toBe('API_KEY_INVALID');
    expect(refusal(() => verify([keyA, keyA]))).toBe('API_KEY_INVALID');
    expect(refusal(() => verify(apiKeyDigest(keyA)))).toBe('API_KEY_INVALID');
  });

  it('refuses short keys, malformed digests and repeated names, without repeating the entry', () => {
    expect(() => parseApiKeys(['too-short'])).toThrow(/entry 1/);
    expect(() => parseApiKeys([keyA, 'x=sha256:abc'])).toThrow(/entry 2/);
    expect(() => parseApiKeys([`a=${keyA}`, `a=${keyB}`])).toThrow(/two API keys are named a/);
    try {
      parseApiKeys([`name=${keyA.slice(0, 20)}`]);
    } catch (error) {
      expect(String(error)).not.toContain(keyA.slice(0, 20));
    }
    expect(() => createApiKeyVerifier([])).toThrow();
  });
});
