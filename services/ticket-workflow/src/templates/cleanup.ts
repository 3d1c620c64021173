import type { CreatedPath } from '../domain/index';
import type { ConfinedRoot } from './confined-root';
import { fileSha256 } from './files';

/**
 * Removes what a distribution created around its issue file — progress.md when it is
 * unchanged and alone in its folder, then the folders it created, innermost first, when
 * they are empty. Anything someone added or edited stays. Returns what was removed.
 */
export async function removeCreated(files: ConfinedRoot, created: readonly CreatedPath[]): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of created.filter((c) => c.kind === 'file')) {
    const folder = entry.path.slice(0, entry.path.lastIndexOf('/'));
    const others = ((await files.list(folder, 'issue folder')) ?? []).filter((e) => folder + '/' + e.name !== entry.path);
    if (others.length > 0) continue;
    if ((await fileSha256(files, entry.path).catch(() => 'unreadable')) !== entry.sha256) continue;
    await files.removeFile(entry.path, 'progress.md');
    removed.push(entry.path);
  }
  const folders = created.filter((c) => c.kind === 'directory').map((c) => c.path);
  // Innermost first: a parent is empty only once its children are gone.
  for (const folder of [...folders].sort((a, b) => b.length - a.length)) {
    if (await files.removeEmptyDirectory(folder, 'issue folder')) removed.push(folder);
  }
  return removed;
}
