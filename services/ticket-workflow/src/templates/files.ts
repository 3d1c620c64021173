import { createHash, randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const sha256 = (content: string | Buffer): string => createHash('sha256').update(content).digest('hex');

/** The file's hash, or undefined when it does not exist. */
export async function fileSha256(path: string): Promise<string | undefined> {
  try {
    return sha256(await readFile(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Writes a file atomically and never over an existing one: the content goes to a temp
 * file in the same folder (flushed), which is then hard-linked to the target name. A
 * link fails when the name exists, so a reader sees no file or the whole file, and
 * a concurrent writer of the same name loses cleanly ('exists').
 */
export async function writeFileExclusive(path: string, content: string): Promise<'written' | 'exists'> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, path);
    return 'written';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return 'exists';
    // File systems without hard links: fall back to rename after checking the name is free.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') {
      if (await pathExists(path)) return 'exists';
      await rename(temp, path);
      return 'written';
    }
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
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
    default:
      return `${e.code ?? 'error'}: ${e.message ?? String(error)}`;
  }
}
