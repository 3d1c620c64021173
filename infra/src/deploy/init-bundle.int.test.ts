/**
 * fairlead-init as the image runs it: bundled by the build's code (IMAGE_TOOLS), started with
 * plain node and the arguments docker-compose.yml gives it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry, IMAGE_TOOLS, type BundleResult } from '../build/bundle';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
let dir: string;
let bundle: BundleResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fairlead-init-bundle-'));
  bundle = await bundleEntry(resolve(ROOT, IMAGE_TOOLS['fairlead-init']!), 'fairlead-init', join(dir, 'dist'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (...args: string[]) => spawnSync(process.execPath, [bundle.file, ...args], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '' } });

describe('the fairlead-init bundle', () => {
  it('imports nothing but Node modules (no workspace of infra is installed in the image)', () => {
    expect(bundle.externals).toEqual([]);
  });

  it('prepares the directories it is given, owner-only, and exits 0', async () => {
    const dirs = [join(dir, 'state', 'ticket-workflow', 'templates'), join(dir, 'state', 'ticket-workflow', 'projects')];
    const result = run(...dirs);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ directories: dirs, created: dirs });
    for (const d of dirs) expect((await stat(d)).mode & 0o777).toBe(0o700);
    expect(run(...dirs).status).toBe(0);
  });

  it('exits 64 with a usage message for no or relative directories', () => {
    for (const args of [[], ['relative/dir']]) {
      const result = run(...args);
      expect(result.status).toBe(64);
      expect(result.stderr).toMatch(/^fairlead-init: /);
    }
  });
});
