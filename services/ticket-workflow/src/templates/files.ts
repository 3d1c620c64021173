import { createHash } from 'node:crypto';
import type { ConfinedRoot } from './confined-root';

export const sha256 = (content: string | Buffer): string => createHash('sha256').update(content).digest('hex');

/** Issue files and progress.md are text of at most this size; anything bigger is not ours. */
const MAX_HASHED_BYTES = 16 * 1024 * 1024;

/** The file's hash, or undefined when it does not exist (read inside the root only). */
export async function fileSha256(root: ConfinedRoot, path: string): Promise<string | undefined> {
  const content = await root.readFile(path, 'file', { maxBytes: MAX_HASHED_BYTES, optional: true });
  return content === undefined ? undefined : sha256(content);
}

/** A short, readable reason for a file-system error. */
export function describeFsError(error: unknown, path: string): string {
  const e = error as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return `not found: ${path}`;
    case 'ENOTDIR':
      return `not a directory (a file is in the way): ${path}`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied: ${path}`;
    case 'EROFS':
      return `read-only file system: ${path}`;
    case 'ENOSPC':
      return `no space left on device: ${path}`;
    case 'EEXIST':
      return `a file is in the way: ${path}`;
    case 'ELOOP':
      return `a symbolic link is in the way: ${path}`;
    default:
      return `${e.code ?? 'error'}: ${e.message ?? String(error)}`;
  }
}
