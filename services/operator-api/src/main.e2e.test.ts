/**
 * The process as `npm start` runs it: no JWT_SECRET, so it creates the local development
 * secret; `npm run token` mints from the same file, and the token opens the API.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startServiceProcess, testNamespace, testNatsUrl, type ServiceProcess, type TestDatabase } from '@fairlead/testing';

const run = promisify(execFile);
let db: TestDatabase;
let dir: string;
let api: ServiceProcess;

beforeAll(async () => {
  db = await createTestDatabase('op_main');
  dir = await mkdtemp(join(tmpdir(), 'fairlead-op-'));
  api = await startServiceProcess({
    service: 'operator-api',
    env: { DATABASE_URL: db.url, NATS_URL: testNatsUrl(), NATS_NAMESPACE: testNamespace('op_main'), JWT_SECRET_FILE: join(dir, 'jwt-secret'), JWT_SECRET: '' },
  });
});
afterAll(async () => {
  await api?.stop();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

async function mint(...args: string[]): Promise<string> {
  const cli = resolve(import.meta.dirname, '..', '..', '..', 'cli', 'bin', 'fairlead.js');
  const { stdout } = await run(process.execPath, [cli, 'token', ...args, '--secret-file', join(dir, 'jwt-secret')], { env: { ...process.env, JWT_SECRET: '' } });
  return stdout.trim();
}

describe('the operator-api process', () => {
  it('keeps its development secret in a file only its owner can read', async () => {
    expect((await stat(join(dir, 'jwt-secret'))).mode & 0o777).toBe(0o600);
  });

  it('accepts a token minted by `npm run token` and refuses one without MFA for changes', async () => {
    const base = `http://127.0.0.1:${api.port}`;
    const viewer = await mint('--role', 'viewer', '--sub', 'vic', '--ttl', '5m');
    const niches = await fetch(`${base}/api/v1/admin/niches`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(niches.status).toBe(200);
    expect(await niches.json()).toEqual({ items: [] });

    const noMfa = await mint('--role', 'admin');
    const refused = await fetch(`${base}/api/v1/admin/niches`, { method: 'POST', headers: { authorization: `Bearer ${noMfa}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'X' }) });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'MFA_REQUIRED' });

    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    expect((await fetch(`${base}/docs/json`)).status).toBe(200);
  });
});
