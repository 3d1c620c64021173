/** The upstream API key configuration and the local development key file (a real temporary directory). */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../config';
import { upstreamKeyConfigSchema, upstreamKeysInProduction, resolveUpstreamKeys } from './api-key-config';
import { apiKeyDigest, createApiKeyVerifier } from './api-keys';

const key = 'configured-upstream-key-0123456789-abcdef';

describe('the upstream API key configuration', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fairlead-keys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const schema = upstreamKeyConfigSchema.extend({ NODE_ENV: z.enum(['development', 'test', 'production']).default('development') }).refine(upstreamKeysInProduction.check, upstreamKeysInProduction.params);

  it('needs UPSTREAM_API_KEYS in production, and refuses malformed entries without printing them', () => {
    expect(() => loadConfig(schema, { NODE_ENV: 'production' })).toThrow(/UPSTREAM_API_KEYS/);
    expect(loadConfig(schema, { NODE_ENV: 'production', UPSTREAM_API_KEYS: `crm=${key}, ${apiKeyDigest('another-key-of-enough-length-0123456789')}` }).UPSTREAM_API_KEYS).toHaveLength(2);
    let message = '';
    try {
      loadConfig(schema, { UPSTREAM_API_KEYS: 'short-secret' });
    } catch (error) {
      message = String(error);
    }
    expect(message).toMatch(/UPSTREAM_API_KEYS/);
    expect(message).not.toContain('short-secret');
  });

  it('outside production, without keys, creates one local key readable by its owner only, and reuses it', async () => {
    const file = join(dir, 'auth', 'upstream-api-key');
    const config = loadConfig(upstreamKeyConfigSchema, { UPSTREAM_API_KEY_FILE: file });
    const first = await resolveUpstreamKeys(config);
    const second = await resolveUpstreamKeys(config);
    expect(first.devKeyFile).toBe(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const local = (await readFile(file, 'utf8')).trim();
    expect(createApiKeyVerifier(second.keys)(local)).toEqual({ sub: 'upstream:local', keyName: 'local' });
    const configured = await resolveUpstreamKeys(loadConfig(upstreamKeyConfigSchema, { UPSTREAM_API_KEYS: key, UPSTREAM_API_KEY_FILE: join(dir, 'unused') }));
    expect(configured.devKeyFile).toBeUndefined();
    await expect(stat(join(dir, 'unused'))).rejects.toThrow();
  });
});
