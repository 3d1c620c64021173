/**
 * The event store's PostgreSQL for the read-model commands: DATABASE_URL, else the local
 * database of `npm start` (local-defaults.ts). Connected once up front, so an unreachable
 * server is one line and exit code 3 before any work starts.
 */
import pg from 'pg';
import { z } from 'zod';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { databaseConnection, env as envTypes, isDatabaseUnavailable } from '@fairlead/platform';
import { unreachable } from './exit-codes';
import { localDatabaseUrl } from './local-defaults';
import { readEnv, type Env } from './settings';

const DatabaseEnv = z.object({
  DATABASE_URL: envTypes.postgresUrl().optional(),
  DATABASE_PASSWORD_FILE: z.string().min(1).optional(),
  EVENT_STORE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'lower-case letters, digits and _').default('eventstore'),
});

export interface DatabaseTarget {
  url: string;
  /** A file whose first line is the password (DATABASE_PASSWORD_FILE, or the local role's). */
  passwordFile?: string | undefined;
  /** Where the URL came from, for the message when it cannot be reached. */
  source: 'DATABASE_URL' | 'local';
  storeSchema: string;
}

/** `role`: whose local database role to log in as when DATABASE_URL is not set (default: the operator CLI's). */
export function databaseTarget(env: Env, role?: string): DatabaseTarget {
  const config = readEnv(DatabaseEnv, env);
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, passwordFile: config.DATABASE_PASSWORD_FILE, source: 'DATABASE_URL', storeSchema: config.EVENT_STORE_SCHEMA };
  const local = localDatabaseUrl(env, role);
  return { url: local.url, passwordFile: local.passwordFile, source: 'local', storeSchema: config.EVENT_STORE_SCHEMA };
}

/** pg.Pool settings for a target (the password read from its file at each connection). */
export function connectionOf(target: DatabaseTarget): pg.ClientConfig {
  return databaseConnection({ DATABASE_URL: target.url, DATABASE_PASSWORD_FILE: target.passwordFile });
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

// SQLSTATE 28…: the server answered but refused the user or its password.
const isAuthenticationFailure = (error: unknown): boolean => typeof error === 'object' && error !== null && 'code' in error && /^28/.test(String(error.code));

/** True when the error says the database cannot be reached or refuses the credentials. */
export function isDatabaseUnreachable(error: unknown): boolean {
  return isDatabaseUnavailable(error) || isAuthenticationFailure(error);
}

/** The one line that says which database could not be reached and what to do. */
export function databaseUnreachable(target: DatabaseTarget, error: unknown): Error {
  const e = error as { code?: unknown; message?: unknown };
  const reason = typeof e.code === 'string' && /^[A-Z]/.test(e.code) ? e.code : String(e.message ?? error).split('\n')[0];
  const what = `cannot reach PostgreSQL at ${redactUrl(target.url)} (${reason})`;
  const todo =
    target.source === 'local'
      ? 'start the local system with `npm start` (or set DATABASE_URL to another database)'
      : 'check DATABASE_URL (unset it to use the local `npm start` database)';
  return unreachable(`${what}: ${todo}`, error);
}

export interface Database {
  target: DatabaseTarget;
  pool: pg.Pool;
  store: PostgresEventStore;
  close(): Promise<void>;
}

/** Connects (one round trip to prove it) or throws the unreachable error. */
export async function openDatabase(env: Env): Promise<Database> {
  const target = databaseTarget(env);
  // A bounded wait: a host that drops packets must not hang the command.
  const pool = new pg.Pool({ ...connectionOf(target), max: 4, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined); // an idle client's lost connection: the next query reports it
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw isDatabaseUnreachable(error) ? databaseUnreachable(target, error) : error;
  }
  const store = createPostgresEventStore({ pool, schema: target.storeSchema });
  return {
    target,
    pool,
    store,
    close: async () => {
      await store.close();
      await pool.end();
    },
  };
}
