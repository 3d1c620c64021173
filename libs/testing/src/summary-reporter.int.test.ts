/**
 * The plain summary line of a real vitest run (fixtures/summary-run): a file whose set-up
 * failed counts as a failure even though none of its tests failed by itself (it used to
 * read "0 failed").
 */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');

describe('summary reporter', () => {
  it('counts a file whose beforeAll failed as failed, in tests and in files', () => {
    const run = spawnSync(process.execPath, [resolve(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', '--root', resolve(here, 'fixtures/summary-run')], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, CI: '1' },
    });
    expect(run.stdout).toMatch(/^Tests: 1 passed, 1 failed, 2 skipped; files: 1 passed, 1 failed$/m);
    expect(run.status).toBe(1);
  });
});
