/**
 * A small versioned migration runner, shared by every library and service that owns
 * tables. Migrations are applied in version order, each in its own transaction together
 * with its bookkeeping row, under a PostgreSQL advisory lock so that processes starting
 * at the same time never apply one twice.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import { quoteIdentifier } from './identifiers';

export interface Migration {
  /** Positive integer; migrations run in ascending order and each runs once. */
  version: number;
  /** Human-readable label, stored with the version. */
  name: string;
  /** The statements; they run in one transaction with the bookkeeping row. */
  sql: string;
}

export interface RunMigrationsOptions {
  /** Bookkeeping table (created when missing) recording applied versions. */
  table: string;
  /** Schema of the bookkeeping table (created when missing); default 'public'. */
  schema?: string;
  migrations: readonly Migration[];
}

export interface RunMigrationsResult {
  /** Versions applied by this call, in order (empty when the database was up to date). */
  applied: number[];
}

/** Failure of the migration runner; `code` is stable. */
export class MigrationError extends Error {
  constructor(
    readonly code: 'MIGRATION_INVALID' | 'MIGRATION_CHANGED' | 'MIGRATION_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

const migrationSchema = z.object({
  version: z.number().int().positive(),
  name: z.string().min(1),
  sql: z.string().min(1),
});

const checksum = (sql: string): string => createHash('sha256').update(sql).digest('hex');

/**
 * Applies the migrations not yet recorded in `schema.table`. A recorded migration whose
 * SQL has changed since is refused (MIGRATION_CHANGED): edit by adding a new version.
 */
export async function runMigrations(pool: pg.Pool, options: RunMigrationsOptions): Promise<RunMigrationsResult> {
  const migrations = validate(options.migrations);
  const schema = options.schema ?? 'public';
  const qualified = `${quoteIdentifier(schema, 'schema')}.${quoteIdentifier(options.table, 'table')}`;
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // Session lock keyed by the bookkeeping table: concurrent starters queue here.
    await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [`migrations:${schema}.${options.table}`]);
    try {
      await client.query(`create schema if not exists ${quoteIdentifier(schema, 'schema')}`);
      await client.query(
        `create table if not exists ${qualified} (
           version integer primary key,
           name text not null,
           checksum text not null,
           applied_at timestamptz not null default now())`,
      );
      const { rows } = await client.query<{ version: number; checksum: string }>(`select version, checksum from ${qualified}`);
      const recorded = new Map(rows.map((r) => [r.version, r.checksum]));
      const applied: number[] = [];
      for (const migration of migrations) {
        const sum = checksum(migration.sql);
        const previous = recorded.get(migration.version);
        if (previous !== undefined) {
          if (previous !== sum) {
            throw new MigrationError(
              'MIGRATION_CHANGED',
              `${qualified} migration ${migration.version} (${migration.name}) was applied with different SQL; add a new version instead`,
            );
          }
          continue;
        }
        await applyOne(client, qualified, migration, sum);
        applied.push(migration.version);
      }
      return { applied };
    } finally {
      await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [`migrations:${schema}.${options.table}`]).catch((error: unknown) => {
        broken = error instanceof Error ? error : new Error(String(error));
      });
    }
  } finally {
    // A connection whose unlock failed may still hold the lock: destroy it rather than pool it.
    client.release(broken);
  }
}

async function applyOne(client: pg.PoolClient, qualified: string, migration: Migration, sum: string): Promise<void> {
  await client.query('begin');
  try {
    await client.query(migration.sql);
    await client.query(`insert into ${qualified} (version, name, checksum) values ($1, $2, $3)`, [migration.version, migration.name, sum]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw new MigrationError('MIGRATION_FAILED', `migration ${migration.version} (${migration.name}) failed: ${String(error)}`, { cause: error });
  }
}

function validate(migrations: readonly Migration[]): Migration[] {
  const parsed = z.array(migrationSchema).safeParse(migrations);
  if (!parsed.success) throw new MigrationError('MIGRATION_INVALID', `invalid migrations: ${parsed.error.message}`);
  const sorted = [...parsed.data].sort((a, b) => a.version - b.version);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.version === sorted[i - 1]!.version) {
      throw new MigrationError('MIGRATION_INVALID', `duplicate migration version ${sorted[i]!.version}`);
    }
  }
  return sorted;
}
