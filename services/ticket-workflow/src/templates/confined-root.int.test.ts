import { mkdir, mkdtemp, readdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfinedRoot } from './confined-root';

// Real files and real symlinks in a fresh temporary directory per test.
let base: string;
let root: ConfinedRoot;
let outside: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'tw-confined-'));
  await mkdir(join(base, 'root', 'proj'), { recursive: true });
  outside = join(base, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret'), 'top secret');
  root = await ConfinedRoot.open('projects', join(base, 'root'));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const code = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return 'accepted';
};

describe('a confined root', () => {
  it('resolves paths inside it (relative ones from the root, missing tails allowed) and refuses the rest', async () => {
    expect(await root.resolve('proj', 'dir')).toBe(join(root.real, 'proj'));
    expect(await root.resolve(join(base, 'root', 'proj', 'new', 'file.md'), 'file')).toBe(join(root.real, 'proj', 'new', 'file.md'));
    expect(await code(root.resolve('../outside/secret', 'file'))).toBe('PATH_NOT_ALLOWED');
    expect(await code(root.resolve('proj/../proj', 'file'))).toBe('PATH_NOT_ALLOWED');
    expect(await code(root.resolve(join(outside, 'secret'), 'file'))).toBe('PATH_NOT_ALLOWED');
    expect(await code(root.resolve('/etc/passwd', 'file'))).toBe('PATH_NOT_ALLOWED');
    expect(await code(root.resolve('proj\0/x', 'file'))).toBe('VALIDATION_FAILED');
    // A sibling whose name starts like the root is not inside it.
    await mkdir(join(base, 'root-sibling'));
    expect(await code(root.resolve(join(base, 'root-sibling'), 'dir'))).toBe('PATH_NOT_ALLOWED');
  });

  it('refuses symlinks that lead outside, at any depth, and follows those that stay inside', async () => {
    await symlink(outside, join(base, 'root', 'proj', 'escape'));
    await symlink(join(outside, 'secret'), join(base, 'root', 'proj', 'secret.md'));
    await mkdir(join(base, 'root', 'shared'));
    await symlink(join(base, 'root', 'shared'), join(base, 'root', 'proj', 'inside'));
    await expect(root.resolve('proj/escape/new.md', 'file')).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED', message: expect.stringContaining('through a symbolic link') });
    await expect(root.readFile('proj/secret.md', 'template', { maxBytes: 1000 })).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' });
    await expect(root.makeDirectories(join(base, 'root', 'proj'), 'escape/phase-1', 'issues')).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' });
    await expect(root.append(join(base, 'root', 'proj', 'escape', 'log'), 'x', 'log')).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' });
    expect(await root.resolve('proj/inside/x.md', 'file')).toBe(join(root.real, 'shared', 'x.md'));
    expect(await readdir(outside)).toEqual(['secret']);
  });

  it('never writes through a symlink at the file name itself; reads one only when it stays inside', async () => {
    const linkInside = join(base, 'root', 'proj', 'log');
    await writeFile(join(base, 'root', 'proj', 'target'), 'inside');
    await symlink(join(base, 'root', 'proj', 'target'), linkInside);
    // Even a link to a file inside the root: O_NOFOLLOW refuses it, the content stays.
    await expect(root.append(linkInside, 'appended', 'log')).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' });
    expect(await root.writeNewFile(linkInside, 'x', 'file')).toBe('exists');
    expect((await root.readFile(linkInside, 'file', { maxBytes: 100 }))?.toString()).toBe('inside');
    expect(await readdir(join(base, 'root', 'proj'))).toEqual(['log', 'target']);
  });

  it('leaves nothing outside while a folder is swapped for a symlink to outside, again and again, during writes', async () => {
    const issues = join(base, 'root', 'proj', 'issues');
    await mkdir(issues);
    let stop = false;
    // The attacker: issues/ is a real folder, then a symlink to outside, then a folder again, as fast as it can.
    const swapper = (async () => {
      let swaps = 0;
      while (!stop) {
        await rename(issues, `${issues}.real`);
        await symlink(outside, issues);
        await new Promise((r) => setImmediate(r));
        await unlink(issues);
        await rename(`${issues}.real`, issues);
        swaps++;
      }
      return swaps;
    })();
    const outcomes = { written: 0, refused: 0, other: 0 };
    for (let i = 0; i < 300; i++) {
      try {
        await root.writeNewFile(join(issues, `${String(i).padStart(3, '0')}.md`), `issue ${i}`, 'issue file');
        outcomes.written++;
      } catch (error) {
        if ((error as { code?: string }).code === 'PATH_NOT_ALLOWED') outcomes.refused++;
        else outcomes.other++;
      }
    }
    stop = true;
    const swaps = await swapper;
    expect(swaps).toBeGreaterThan(10);
    expect(outcomes.written + outcomes.refused + outcomes.other).toBe(300);
    expect(await readdir(outside), JSON.stringify(outcomes)).toEqual(['secret']);
  });
});
