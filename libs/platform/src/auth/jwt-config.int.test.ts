/** The JWT configuration fragment and the development secret file (a real temporary directory). */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../config';
import { jwtConfigSchema, jwtInProduction, resolveTokenVerifierOptions } from './jwt-config';

const secret = 'a-test-secret-that-is-long-enough-0123456789';

describe('the JWT configuration fragment', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fairlead-auth-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const schema = jwtConfigSchema.extend({ NODE_ENV: z.enum(['development', 'test', 'production']).default('development') }).refine(jwtInProduction.check, jwtInProduction.params);

  it('needs a secret or a JWKS URL in production, not in development', () => {
    expect(() => loadConfig(schema, { NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
    expect(loadConfig(schema, { NODE_ENV: 'production', JWT_JWKS_URL: 'https://idp.example/jwks.json' }).JWT_JWKS_URL).toBe('https://idp.example/jwks.json');
    expect(loadConfig(schema, {}).JWT_SECRET_FILE).toMatch(/[/\\]auth[/\\]jwt-secret$/);
  });

  it('falls back to the development secret file, created once and readable by its owner only', async () => {
    const file = join(dir, 'auth', 'jwt-secret');
    const config = loadConfig(jwtConfigSchema, { JWT_SECRET_FILE: file });
    const first = await resolveTokenVerifierOptions(config);
    const second = await resolveTokenVerifierOptions(config);
    expect(first.devSecretFile).toBe(file);
    expect(second.options.secret).toBe(first.options.secret);
    expect((await readFile(file, 'utf8')).trim()).toBe(first.options.secret);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const configured = await resolveTokenVerifierOptions(loadConfig(jwtConfigSchema, { JWT_SECRET: secret, JWT_SECRET_FILE: join(dir, 'unused') }));
    expect(configured).toEqual({ options: { secret, issuer: 'fairlead', audience: 'fairlead-operator-api' } });
  });
});
