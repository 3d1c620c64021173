import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfinedRoot } from './confined-root';

/** Files or folders whose presence makes a folder look like a project. */
export const PROJECT_MARKERS: readonly string[] = [
  '.git',
  'package.json',
  'Cargo.toml',
  'go.mod',
  'pyproject.toml',
  'setup.py',
  'pom.xml',
  'Makefile',
  'CLAUDE.md',
  'README.md',
  'issues',
];

/**
 * The project folders directly under a base directory inside the root: non-hidden real
 * folders (a symlink is never followed) holding one of the markers. Sorted by name so
 * runs are repeatable.
 */
export async function discoverProjects(root: ConfinedRoot, baseDir: string, markers: readonly string[] = PROJECT_MARKERS): Promise<string[]> {
  const base = await root.resolve(baseDir, 'discover_under');
  const entries = await root.list(base, 'discover_under');
  if (!entries) throw Object.assign(new Error(`not found: ${baseDir}`), { code: 'ENOENT' });
  const found: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const dir = join(base, entry.name);
    for (const marker of markers) {
      if (await exists(join(dir, marker))) {
        found.push(dir);
        break;
      }
    }
  }
  return found.sort();
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
