/**
 * Where the local system's database passwords live, and how a tool finds its database:
 * one file per role under `<data dir>/auth/postgres/` (directory 0700, files 0600), made
 * with a fresh random password the first time and kept for the data directory's life.
 * `npm start`, the test setup and the benchmarks use these; so does any tool that wants the
 * local `npm start` database (localDatabaseUrl).
 */
import { chmod, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateSecretFile } from '@fairlead/platform';
import { databaseRoleOf, DATABASE_ROLES, OPERATOR_CLI_ROLE } from './database-roles';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The superuser of the embedded server (the admin that runs the bootstrap). */
export const LOCAL_ADMIN_ROLE = 'postgres';
/** The database `npm start` creates and the services use. */
export const LOCAL_DATABASE = 'fairlead';
/** `npm start`'s default PostgreSQL port (FAIRLEAD_PG_PORT). */
export const LOCAL_PG_PORT = 54329;

/** `<data dir>/auth/postgres`: the password files of one data directory. */
export function passwordsDir(dataDir: string): string {
  return resolve(dataDir, 'auth', 'postgres');
}

/** The password file of `role` under `dataDir` (not created). */
export function passwordFileOf(dataDir: string, role: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`not a role name: ${JSON.stringify(role)}`);
  return join(passwordsDir(dataDir), `${role}.password`);
}

/** The password of `role` for this data directory, generated (mode 0600, directory 0700) the first time. */
export async function localPassword(dataDir: string, role: string): Promise<string> {
  const dir = passwordsDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  return loadOrCreateSecretFile(passwordFileOf(dataDir, role));
}

/** Every role's password file of the grants table under `dataDir`, created when missing. */
export async function ensureLocalPasswords(dataDir: string): Promise<void> {
  for (const r of DATABASE_ROLES) await localPassword(dataDir, r.role);
}

export interface LocalDatabaseOptions {
  /** The data directory of `npm start` (FAIRLEAD_DATA_DIR; default `<repo>/.data`). */
  dataDir?: string | undefined;
  /**
   * A service (`billing`, `operator-api`, …), a role of the grants table
   * (`fairlead_operator_cli`), or `admin` for the superuser. Default: the operator CLI's role.
   */
  role?: string | undefined;
  /** Default FAIRLEAD_PG_PORT, else 54329. */
  port?: number | undefined;
  host?: string | undefined;
  database?: string | undefined;
}

export interface LocalDatabase {
  role: string;
  /** postgres://role@host:port/database — without the password. */
  url: string;
  /** The 0600 file holding the role's password (DATABASE_PASSWORD_FILE). */
  passwordFile: string;
  /** What a Fairlead process reads: DATABASE_URL and DATABASE_PASSWORD_FILE. */
  env: { DATABASE_URL: string; DATABASE_PASSWORD_FILE: string };
}

/**
 * How to reach the database of the local system `npm start` runs, as one role, with no
 * variable to set: its URL (no password in it) and its password file. The files exist
 * once `npm start` has run on that data directory.
 */
export function localDatabaseUrl(options: LocalDatabaseOptions = {}): LocalDatabase {
  const dataDir = resolve(options.dataDir ?? (process.env.FAIRLEAD_DATA_DIR || resolve(repoRoot, '.data')));
  const asked = options.role ?? OPERATOR_CLI_ROLE;
  const role = asked === 'admin' ? LOCAL_ADMIN_ROLE : (databaseRoleOf(asked) ?? asked);
  if (role !== LOCAL_ADMIN_ROLE && !DATABASE_ROLES.some((r) => r.role === role)) {
    throw new Error(`no database role for ${JSON.stringify(asked)}: a service (${DATABASE_ROLES.map((r) => r.usedBy).join(', ')}), a role or admin`);
  }
  const port = options.port ?? (Number(process.env.FAIRLEAD_PG_PORT) || LOCAL_PG_PORT);
  const url = new URL(`postgres://${options.host ?? '127.0.0.1'}:${port}/${options.database ?? LOCAL_DATABASE}`);
  url.username = role;
  const passwordFile = passwordFileOf(dataDir, role);
  return { role, url: url.toString(), passwordFile, env: { DATABASE_URL: url.toString(), DATABASE_PASSWORD_FILE: passwordFile } };
}
