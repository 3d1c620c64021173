import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

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
 * The project folders directly under a base directory: non-hidden folders holding one of
 * the markers. Sorted by name so runs are repeatable.
 */
export async function discoverProjects(baseDir: string, markers: readonly string[] = PROJECT_MARKERS): Promise<string[]> {
  const base = resolve(baseDir);
  const entries = await readdir(base, { withFileTypes: true });
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
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
