/**
 * File access confined to one configured root (the templates root or the projects root).
 *
 * Every path is checked as given (no NUL, no `..` segment), resolved with realpath
 * (symlinks included, missing tail segments allowed) and must stay inside the root's real
 * path; everything after that works on the resolved path. Node has no openat() or
 * RESOLVE_BENEATH, and no maintained package offers them, so the race between the check
 * and the write is closed here by hand:
 * - files are opened with O_NOFOLLOW (a symlink at the file's own name is refused) and, for
 *   new files, O_CREAT|O_EXCL; before a byte is written or returned, the real path of the
 *   open descriptor (`/proc/self/fd/N` on Linux; the parent's realpath elsewhere) is checked
 *   against the root again, and a file created outside is removed;
 * - an issue file is written to a randomly named temp file and hard-linked to its name,
 *   then the name's real path is checked once more (and the link removed when outside).
 * What this guarantees: nothing is read from outside the root, and no content is left
 * outside it. What a parent directory swapped for a symlink in the instant between the
 * check and the write can still cause is an empty file or folder, briefly, in a place the
 * swapper could already write to — which is then removed and the write refused.
 */
import { constants, type Dirent } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readlink, realpath, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { ERROR_CODES, forbidden, invalid } from '../domain/index';

/** Refuses what no path needs: NUL bytes and `..` segments (checked before anything is resolved). */
export function checkPathSyntax(path: string, what: string): void {
  if (path.includes('\0')) throw invalid(ERROR_CODES.validation, `${what}: a path must not contain NUL bytes`);
  if (path.split(/[\\/]+/).includes('..')) throw forbidden(ERROR_CODES.pathNotAllowed, `${what} ${path}: '..' is not allowed in paths`);
}

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
// A FIFO would block open() for reading until a writer comes; non-blocking, then refused as not a regular file.
const NONBLOCK = constants.O_NONBLOCK ?? 0;

export class ConfinedRoot {
  private constructor(
    /** `templates` or `projects`: named in every refusal. */
    readonly label: string,
    /** The root as configured (relative paths are taken from it). */
    readonly path: string,
    /** Its real path: what everything is checked against. */
    readonly real: string,
  ) {}

  /** The root must exist and be a directory. */
  static async open(label: string, path: string): Promise<ConfinedRoot> {
    if (!isAbsolute(path)) throw new Error(`the ${label} root must be an absolute path: ${path}`);
    const real = await realpath(path).catch((error: unknown) => {
      throw new Error(`the ${label} root ${path} cannot be used: ${(error as Error).message}`, { cause: error });
    });
    if (!(await lstat(real)).isDirectory()) throw new Error(`the ${label} root ${path} is not a directory`);
    return new ConfinedRoot(label, resolve(path), real);
  }

  contains(realPath: string): boolean {
    return realPath === this.real || realPath.startsWith(this.real.endsWith(sep) ? this.real : this.real + sep);
  }

  /**
   * The real path of `path` (absolute, or relative to the root), refused unless it stays
   * inside the root. Segments that do not exist yet are allowed (files about to be written).
   */
  async resolve(path: string, what: string): Promise<string> {
    checkPathSyntax(path, what);
    const absolute = isAbsolute(path) ? resolve(path) : resolve(this.path, path);
    const real = await realpathAllowingMissing(absolute);
    if (this.contains(real)) return real;
    const lexicallyInside = this.contains(absolute) || absolute === this.path || absolute.startsWith(this.path + sep);
    throw forbidden(
      ERROR_CODES.pathNotAllowed,
      lexicallyInside
        ? `${what} ${path} leads outside the ${this.label} root through a symbolic link`
        : `${what} ${path} is outside the ${this.label} root (${this.path})`,
    );
  }

  /** Refuses unless `real` (a path already resolved) is still inside the root. */
  assertInside(real: string, what: string): void {
    if (!this.contains(real)) throw forbidden(ERROR_CODES.pathNotAllowed, `${what} ${real} is outside the ${this.label} root (${this.path})`);
  }

  /** A regular file's content; undefined when it does not exist and `optional`. */
  async readFile(path: string, what: string, options: { maxBytes: number; optional?: boolean }): Promise<Buffer | undefined> {
    const real = await this.resolve(path, what);
    let handle: FileHandle;
    try {
      handle = await open(real, constants.O_RDONLY | NOFOLLOW | NONBLOCK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && options.optional) return undefined;
      if (code === 'ELOOP') throw forbidden(ERROR_CODES.pathNotAllowed, `${what} ${path} is a symbolic link; give the file itself`);
      throw error;
    }
    try {
      await this.checkOpened(handle, real, what);
      const info = await handle.stat();
      if (!info.isFile()) throw invalid(ERROR_CODES.validation, `${what} ${path} is not a regular file`);
      if (info.size > options.maxBytes) throw invalid(ERROR_CODES.validation, `${what} ${path} is larger than ${options.maxBytes} bytes`);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  /** Names in a directory inside the root; undefined when it does not exist. */
  async list(dir: string, what: string): Promise<Dirent[] | undefined> {
    const real = await this.resolve(dir, what);
    try {
      return await readdir(real, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Creates the folders of `rel` below `base` one by one (each existing one, symlink or
   * not, must resolve inside the root and be a directory). Returns the folder's real path
   * and the real paths of the folders it created, outermost first.
   */
  async makeDirectories(base: string, rel: string, what: string): Promise<{ path: string; created: string[] }> {
    let current = await this.resolve(base, what);
    const created: string[] = [];
    for (const segment of rel.split(/[\\/]+/).filter(Boolean)) {
      checkPathSyntax(segment, what);
      const next = join(current, segment);
      try {
        await mkdir(next, { mode: 0o755 });
        created.push(next);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const real = await realpath(next);
      if (!this.contains(real)) {
        if (created.at(-1) === next) await rmdir(next).catch(() => undefined);
        throw forbidden(ERROR_CODES.pathNotAllowed, `${what}: ${join(rel)} leads outside the ${this.label} root through a symbolic link`);
      }
      if (!(await lstat(real)).isDirectory()) throw Object.assign(new Error(`not a directory (a file is in the way): ${next}`), { code: 'ENOTDIR', path: next });
      current = real;
    }
    return { path: current, created };
  }

  /**
   * Writes a new file atomically, never over an existing name: a temp file (O_EXCL,
   * O_NOFOLLOW, checked where it really is) hard-linked to the name. A reader sees no file
   * or the whole file; a concurrent writer of the same name loses cleanly ('exists').
   */
  async writeNewFile(path: string, content: string, what: string): Promise<'written' | 'exists'> {
    const parent = await this.resolve(dirname(path), what);
    const final = join(parent, basename(path));
    const temp = join(parent, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o644);
    try {
      try {
        await this.checkOpened(handle, temp, what);
        await handle.writeFile(content, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await link(temp, final);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
        throw error;
      }
      const real = await realpath(final).catch(() => final);
      if (!this.contains(real)) {
        await unlink(final).catch(() => undefined);
        throw forbidden(ERROR_CODES.pathNotAllowed, `${what} ${path}: its folder was moved outside the ${this.label} root while writing; nothing was written`);
      }
      return 'written';
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** Appends to a file (created when missing), never through a symlink. */
  async append(path: string, text: string, what: string): Promise<void> {
    const parent = await this.resolve(dirname(path), what);
    const target = join(parent, basename(path));
    let handle: FileHandle;
    let created = false;
    try {
      handle = await open(target, constants.O_WRONLY | constants.O_APPEND | NOFOLLOW);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw forbidden(ERROR_CODES.pathNotAllowed, `${what} ${path} is a symbolic link`);
      if (code !== 'ENOENT') throw error;
      // Missing: create it ourselves (O_EXCL), so a file found outside afterwards is known to be ours.
      handle = await open(target, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o644);
      created = true;
    }
    try {
      await this.checkOpened(handle, target, what, created);
      if (!(await handle.stat()).isFile()) throw invalid(ERROR_CODES.validation, `${what} ${path} is not a regular file`);
      await handle.appendFile(text, 'utf8');
    } finally {
      await handle.close();
    }
  }

  /** Removes a file inside the root (not a symlink, not a folder). */
  async removeFile(path: string, what: string): Promise<void> {
    const real = await this.resolve(path, what);
    if (!(await lstat(real)).isFile()) throw invalid(ERROR_CODES.validation, `${what} ${path} is not a regular file`);
    await unlink(real);
  }

  /** Removes a folder inside the root when it is empty; false when it is not (or is gone). */
  async removeEmptyDirectory(path: string, what: string): Promise<boolean> {
    const real = await this.resolve(path, what);
    try {
      await rmdir(real);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT') return false;
      throw error;
    }
  }

  /**
   * Where an open descriptor really is, checked against the root. A file this call created
   * outside the root (a parent swapped for a symlink after the check) is removed.
   */
  private async checkOpened(handle: FileHandle, expected: string, what: string, createdByUs = true): Promise<void> {
    let actual: string;
    try {
      actual = await readlink(`/proc/self/fd/${handle.fd}`);
    } catch {
      // No /proc (not Linux): the parent's real path is the next best evidence.
      actual = join(await realpath(dirname(expected)), basename(expected));
    }
    if (this.contains(actual)) return;
    if (createdByUs) await unlink(actual).catch(() => undefined);
    throw forbidden(ERROR_CODES.pathNotAllowed, `${what}: ${basename(expected)} was redirected outside the ${this.label} root while opening it; nothing was read or written`);
  }
}

/** realpath, with the segments that do not exist yet appended as they are. */
async function realpathAllowingMissing(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    const parent = dirname(path);
    if (parent === path) return path;
    return join(await realpathAllowingMissing(parent), basename(path));
  }
}
