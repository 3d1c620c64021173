/** fairlead-init prepares the state directories owner-only, again and again, and refuses what is not an absolute directory. */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InitUsageError, parseDirectories, prepareDirectories } from './init';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'fairlead-init-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('fairlead-init', () => {
  it('creates the directories with their parents, owner-only, and is idempotent', async () => {
    const dirs = parseDirectories([join(root, 'ticket-workflow', 'templates'), join(root, 'ticket-workflow', 'projects')]);
    expect(await prepareDirectories(dirs)).toEqual(dirs);
    for (const dir of dirs) expect(await mode(dir)).toBe(0o700);
    // A second run (the deployment restarted) changes nothing and fails on nothing.
    expect(await prepareDirectories(dirs)).toEqual([]);
  });

  it('makes a directory that exists with wider permissions owner-only', async () => {
    const dir = join(root, 'wide');
    await prepareDirectories([dir]);
    const { chmod } = await import('node:fs/promises');
    await chmod(dir, 0o777);
    await prepareDirectories([dir]);
    expect(await mode(dir)).toBe(0o700);
  });

  it('refuses relative paths, NUL bytes, no arguments, and a file in the way', async () => {
    expect(() => parseDirectories([])).toThrow(InitUsageError);
    expect(() => parseDirectories(['relative/dir'])).toThrow(/not an absolute directory/);
    expect(() => parseDirectories(['/tmp/a\0b'])).toThrow(/not an absolute directory/);
    const file = join(root, 'file');
    await writeFile(file, 'x');
    await expect(prepareDirectories([file])).rejects.toThrow(/is not a directory/);
  });
});
