import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { bootstrapDatabase, databaseRoleOf, passwordFileOf } from '@fairlead/local-servers';
import './provided-context';

export interface TestDatabase {
  /** URL of a database created for this test file alone (the run's admin: a superuser). */
  url: string;
  /** A pool on it, ended by drop(). */
  pool: pg.Pool;
  /**
   * How `service` logs in to this database: its own role and password file, as `npm start`
   * gives it (DATABASE_URL, DATABASE_PASSWORD_FILE); the admin's URL when the database has
   * no roles (createTestDatabase with `roles: false`, or a server without them).
   */
  serviceEnv(service: string): Record<string, string>;
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /**
   * Run the database bootstrap (default true): each service's schema owned by its role,
   * the event store migrated and owned by its owner role, the grants of the grants table.
   * False gives an empty database (e.g. to test the migrations themselves).
   */
  roles?: boolean;
}

/** The server URL of this test run (its own PostgreSQL, or DATABASE_URL). */
export function serverDatabaseUrl(): string {
  return inject('databaseUrl');
}

/** Databases of this worker that have the roles' layout: their service processes log in as the roles. */
const bootstrapped = new Set<string>();

/**
 * Creates a fresh database for one test file; creating a database costs milliseconds,
 * so every file starts empty and files run in parallel without seeing each other.
 */
export async function createTestDatabase(label = 't', options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = serverDatabaseUrl();
  const name = `${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase().slice(0, 30)}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    // A database name cannot be a bound parameter; it is built from [a-z0-9_] only.
    await admin.query(`create database ${name} template template0`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const rolesDir = inject('databaseRolesDir');
  const withRoles = options.roles !== false && rolesDir !== '';
  if (withRoles) {
    await bootstrapDatabase(url.toString());
    bootstrapped.add(url.toString());
  }
  const pool = new pg.Pool({ connectionString: url.toString(), max: 20 });
  return {
    url: url.toString(),
    pool,
    serviceEnv: (service) => serviceDatabaseEnv(url.toString(), service) ?? { DATABASE_URL: url.toString() },
    drop: async () => {
      await pool.end();
      bootstrapped.delete(url.toString());
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        // Not WITH (FORCE): terminating a connection the test left open (a listener, a
        // second pool) makes its client emit an unhandled error into the run. A database
        // still in use is left behind; the test run's own server is discarded at the end.
        await client.query(`drop database if exists ${name}`).catch((error: { code?: string }) => {
          if (error.code !== '55006') throw error;
        });
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * The role credentials of `service` on the test database at `adminUrl` (DATABASE_URL without
 * password, DATABASE_PASSWORD_FILE), or undefined when that database was not bootstrapped
 * here or the service has no role.
 */
export function serviceDatabaseEnv(adminUrl: string, service: string): Record<string, string> | undefined {
  const role = databaseRoleOf(service);
  if (!role || !bootstrapped.has(adminUrl)) return undefined;
  const url = new URL(adminUrl);
  url.username = role;
  url.password = '';
  return { DATABASE_URL: url.toString(), DATABASE_PASSWORD_FILE: passwordFileOf(inject('databaseRolesDir'), role) };
}
