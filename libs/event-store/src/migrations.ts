/**
 * A small versioned migration runner, shared by every library and service that owns
 * tables. Migrations are applied in version order, each in its own transaction together
 * with its bookkeeping row, under a PostgreSQL advisory lock so that processes starting
 * at the same time never apply one twice.
 *
 * Least privilege (docs/security.md#database): a schema the database bootstrap created
 * belongs to the role that uses it, and a service role may not create schemas nor change
 * the event store. So an up-to-date schema is only read (its bookkeeping table), an existing
 * schema is not created again, and migrations run as the schema's owner whenever the
 * caller may act as it (a superuser or the bootstrap's admin): the tables then belong to
 * the role that uses them, whoever applied the migration.
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
  let actingAsOwner = false;
  try {
    if (await upToDate(client, schema, options.table, qualified, migrations)) return { applied: [] };
    // Session lock keyed by the bookkeeping table: concurrent starters queue here.
    await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [`migrations:${schema}.${options.table}`]);
    try {
      const owner = await schemaOwner(client, schema);
      if (owner === undefined) await client.query(`create schema if not exists ${quoteIdentifier(schema, 'schema')}`);
      else actingAsOwner = await actAs(client, owner);
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
    } catch (error) {
      throw explainDenied(error, schema);
    } finally {
      if (actingAsOwner) await client.query('reset role').catch((error: unknown) => (broken = error instanceof Error ? error : new Error(String(error))));
      await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [`migrations:${schema}.${options.table}`]).catch((error: unknown) => {
        broken = error instanceof Error ? error : new Error(String(error));
      });
    }
  } finally {
    // A connection whose unlock failed may still hold the lock: destroy it rather than pool it.
    client.release(broken);
  }
}

/**
 * Every migration is recorded with its checksum: nothing to do, and nothing to lock or
 * create (a role that may only read the bookkeeping table gets this far). A changed
 * migration or a missing one goes the long way, which reports it or applies it.
 */
async function upToDate(client: pg.PoolClient, schema: string, table: string, qualified: string, migrations: readonly Migration[]): Promise<boolean> {
  const { rows: found } = await client.query<{ ok: boolean }>('select to_regclass($1) is not null as ok', [`${quoteIdentifier(schema, 'schema')}.${quoteIdentifier(table, 'table')}`]);
  if (!found[0]?.ok) return false;
  const { rows } = await client.query<{ version: number; checksum: string }>(`select version, checksum from ${qualified}`);
  const recorded = new Map(rows.map((r) => [r.version, r.checksum]));
  return migrations.every((m) => recorded.get(m.version) === checksum(m.sql));
}

async function schemaOwner(client: pg.PoolClient, schema: string): Promise<string | undefined> {
  const { rows } = await client.query<{ owner: string }>('select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = $1', [schema]);
  return rows[0]?.owner;
}

/**
 * Within a transaction, SET LOCAL ROLE to the owner of `schema` when it exists, belongs to
 * someone else and we may act as them (a superuser, the bootstrap's admin, the operator CLI
 * for the operator API's schema): the tables made next belong to the role that uses them.
 * True when it did; the role goes back at the transaction's end.
 */
export async function actAsSchemaOwner(client: pg.ClientBase, schema: string): Promise<boolean> {
  const { rows } = await client.query<{ owner: string }>('select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = $1', [schema]);
  const owner = rows[0]?.owner;
  if (owner === undefined) return false;
  await client.query('savepoint act_as_owner');
  const acted = await actAs(client, owner, 'set local role');
  await client.query(acted ? 'release savepoint act_as_owner' : 'rollback to savepoint act_as_owner');
  return acted;
}

/** SET ROLE to the schema's owner when that is someone else we may act as; true when it did. */
async function actAs(client: pg.ClientBase, owner: string, statement: 'set role' | 'set local role' = 'set role'): Promise<boolean> {
  const { rows } = await client.query<{ me: string; may: boolean }>(
    `select current_user as me, (select rolsuper from pg_roles where rolname = current_user) or pg_has_role(current_user, $1, 'MEMBER') as may`,
    [owner],
  );
  if (rows[0]?.me === owner || !rows[0]?.may || !/^[a-z_][a-z0-9_]{0,62}$/.test(owner)) return false;
  // A member without the SET option (PostgreSQL 16+) is refused here: then it migrates as itself, as before.
  return client.query(`${statement} ${quoteIdentifier(owner, 'role')}`).then(
    () => true,
    () => false,
  );
}

/** A role that may not change the schema gets told what to run instead of a bare "permission denied". */
function explainDenied(error: unknown, schema: string): unknown {
  const cause = error instanceof MigrationError ? error.cause : error;
  if ((cause as { code?: string } | undefined)?.code !== '42501') return error;
  return new MigrationError(
    'MIGRATION_FAILED',
    `schema ${schema} needs migrations this database role may not apply (${(cause as Error).message}): run the database bootstrap as an admin (npm run db:bootstrap, docs/security.md#database)`,
    { cause },
  );
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
