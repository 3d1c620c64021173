import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import './provided-context';

export interface TestDatabase {
  /** URL of a database created for this test file alone. */
  url: string;
  /** A pool on it, ended by drop(). */
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** The server URL of this test run (its own PostgreSQL, or DATABASE_URL). */
export function serverDatabaseUrl(): string {
  return inject('databaseUrl');
}

/**
 * Creates a fresh database for one test file; creating a database costs milliseconds,
 * so every file starts empty and files run in parallel without seeing each other.
 */
export async function createTestDatabase(label = 't'): Promise<TestDatabase> {
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
  const pool = new pg.Pool({ connectionString: url.toString(), max: 20 });
  return {
    url: url.toString(),
    pool,
    drop: async () => {
      await pool.end();
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
