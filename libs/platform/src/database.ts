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

/** The first line of a password file, without its line break; an empty file is an error, not an empty password. */
export async function readPasswordFile(file: string): Promise<string> {
  const password = (await readFile(file, 'utf8')).split(/\r?\n/)[0] ?? '';
  if (password === '') throw new Error(`the password file ${file} is empty`);
  return password;
}
