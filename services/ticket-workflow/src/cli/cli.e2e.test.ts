import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';

const entry = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'cli', 'bin', 'fairlead.js');
let db: TestDatabase;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase('tw_cli');
  base = await mkdtemp(join(tmpdir(), 'tw-cli-'));
  for (const name of ['web', 'api']) {
    await mkdir(join(base, 'projects', name), { recursive: true });
    await writeFile(join(base, 'projects', name, 'package.json'), '{}');
  }
  await writeFile(join(base, 'audit.md'), '# Audit of {{project_name}}\nOwner: {{owner}}\n');
});
afterAll(async () => {
  await db?.drop();
  if (base) await rm(base, { recursive: true, force: true });
});

/** Runs the CLI as a user would, from the base directory. */
function tickets(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [entry, 'tickets', ...args], { env: { ...process.env, ...db.serviceEnv('ticket-workflow'), INIT_CWD: base }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolvePromise({ code, out, err }));
  });
}

describe('tickets CLI', () => {
  it('previews, distributes, refuses bad arguments, and rolls back', async () => {
    const preview = await tickets('distribute', '--template', 'audit.md', '--discover', 'projects', '--keyword', 'owner=ops', '--dry-run');
    expect(preview.code).toBe(0);
    expect(preview.out).toContain('✓ api: would write issues/phase-1/001-audit.md');
    expect(preview.out).toContain('Owner: ops');
    expect(await readdir(join(base, 'projects', 'web'))).toEqual(['package.json']);

    const run = await tickets('distribute', '--template', 'audit.md', '--discover', 'projects', '--dir', 'missing', '--keyword', 'owner=ops');
    expect(run.err).toBe("");
    expect(run.code).toBe(1); // one project failed
    expect(run.out).toMatch(/✓ web: issues\/phase-1\/001-audit\.md, ticket WEB-001/);
    expect(run.out).toContain(`✗ missing: directory does not exist: ${join(base, 'missing')}`);
    expect(run.out).toContain('Distribution complete: 2 success, 1 errors, 0 skipped (of 3)');
    const distributionId = /Starting distribution (\S+)/.exec(run.out)?.[1];
    expect(distributionId).toBeDefined();
    const log = await readFile(join(base, 'projects', '.ticket_distribution_log'), 'utf8');
    expect(log).toContain(`|${distributionId}|web|001-audit.md|audit|success`);

    const bad = await tickets('distribute', '--template', 'audit.md');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--project: give target projects');

    const back = await tickets('rollback', distributionId!);
    expect(back.code).toBe(0);
    expect(back.out).toContain('Rollback complete: 2 removed, 0 kept, 0 already gone, 2 tickets withdrawn');
    const history = await tickets('history', distributionId!);
    expect(JSON.parse(history.out)).toMatchObject({ distribution_id: distributionId, status: 'rolled_back', succeeded: 2, failed: 1 });
  }, 240_000); // six CLI processes, one after the other

  it('logs a run with --dir only (in the projects root, here the working directory) and rolls it back', async () => {
    const run = await tickets('distribute', '--template', 'audit.md', '--dir', 'projects/web', '--keyword', 'owner=ops', '--name', 'dir-only');
    expect(run.code, run.err).toBe(0);
    const distributionId = /Starting distribution (\S+)/.exec(run.out)?.[1];
    const log = () => readFile(join(base, '.ticket_distribution_log'), 'utf8');
    expect(await log()).toContain(`|${distributionId}|web|001-dir-only.md|dir-only|success`);
    const back = await tickets('rollback', distributionId!);
    expect(back.code, back.err).toBe(0);
    expect(await log()).toContain(`|${distributionId}|web|001-dir-only.md|dir-only|rolled_back`);
    expect(await readdir(join(base, 'projects', 'web'))).toEqual(['package.json']);
  }, 180_000);
});
