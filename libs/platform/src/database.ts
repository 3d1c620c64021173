/**
 * How a process connects to PostgreSQL: DATABASE_URL, and — when DATABASE_PASSWORD_FILE is
 * set — the password read from that file instead of the URL's. The file is read at every
 * new connection, so a rotated password (ALTER ROLE, then the file rewritten) is picked up
 * without a restart, and the password never sits in an environment variable or a URL that
 * a log or `ps` could show.
 */
import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';

export interface DatabaseCredentials {
  DATABASE_URL: string;
  DATABASE_PASSWORD_FILE?: string | undefined;
}

/** Settings for pg.Pool / pg.Client (spread them and add pool options). */
export function databaseConnection(credentials: DatabaseCredentials): pg.ClientConfig {
  const file = credentials.DATABASE_PASSWORD_FILE;
  if (!file) return { connectionString: credentials.DATABASE_URL };
  // Not `connectionString`: node-postgres lets the URL's password (even an empty one) win over `password`.
  const { password: _fromUrl, ...params } = parseIntoClientConfig(credentials.DATABASE_URL);
  return { ...params, password: () => readPasswordFile(file) };
}

/**
 * How long a pooled connection may sit idle before it is closed (pg's default: 10 s). An idle
 * service still queries now and then — `npm start`'s readiness probe every 10 s, the event
 * log's safety-net poll up to every 10 s — and with pg's 10 s each of those found its
 * connection just closed and opened a new one: a backend forked and a SCRAM exchange (4096
 * PBKDF2 rounds, in the service and in PostgreSQL) every 10 s per service.
 */
export const POOL_IDLE_TIMEOUT_MS = 60_000;

/** A service's pool settings: databaseConnection, `max` connections, idle ones kept POOL_IDLE_TIMEOUT_MS. */
export function databasePool(credentials: DatabaseCredentials, max: number): pg.PoolConfig {
  return { ...databaseConnection(credentials), max, idleTimeoutMillis: POOL_IDLE_TIMEOUT_MS };
}

/** The first line of a password file, without its line break; an empty file is an error, not an empty password. */
export async function readPasswordFile(file: string): Promise<string> {
  const password = (await readFile(file, 'utf8')).split(/\r?\n/)[0] ?? '';
  if (password === '') throw new Error(`the password file ${file} is empty`);
  return password;
}
