/**
 * The database bootstrap: run as an admin (a superuser, or a role with CREATEROLE that owns
 * the database), it makes the roles of the grants table (database-roles.ts) with their
 * passwords, gives each service its schema, migrates the event store as its owner and
 * grants exactly what the table says. It is idempotent: `npm start` runs it at every start,
 * the test setup for every test database, a deployment once per release (db-bootstrap.ts).
 *
 * Identifiers come from the grants table and are checked; passwords travel as SCRAM
 * verifiers (never in clear text, so no server log can show them), and every statement is
 * put together by the server's format(%I, %L) from bound parameters.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPostgresEventStore } from '@fairlead/event-store';
import { DATABASE_ROLES, EVENT_STORE_OWNER, EVENT_STORE_SCHEMA, type DatabaseRoleGrant } from './database-roles';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function checked(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a plain identifier: ${JSON.stringify(name)}`);
  return name;
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677; the form
 * `psql`'s \password sends). Written here because node-postgres only speaks the client
 * side of SCRAM; sending the verifier keeps the password itself off the wire and out of the
 * server's statement logs. Our passwords are ASCII (base64url), so SASLprep leaves them as is.
 */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

type Client = Pick<pg.ClientBase, 'query'>;

/** Runs the statement format(template, ...args) builds on the server (identifiers %I, literals %L). */
async function run(db: Client, template: string, ...args: string[]): Promise<void> {
  const params = args.map((_, i) => `$${i + 2}::text`).join(', ');
  const { rows } = await db.query<{ sql: string }>(`select format($1::text${params ? `, ${params}` : ''}) as sql`, [template, ...args]);
  await db.query(rows[0]!.sql);
}

const ROLE_ATTRIBUTES = 'nosuperuser nocreatedb nocreaterole noreplication nobypassrls inherit';

/**
 * Creates (or updates) the roles of the grants table, cluster-wide: the event store's owner
 * (no login) and one login role per entry, with the password `passwordOf(role)` gives.
 * Memberships as the table says. A non-superuser admin is made able to act as each role
 * (to migrate as the owner), without inheriting their rights.
 */
export async function ensureDatabaseRoles(adminUrl: string, passwordOf: (role: string) => Promise<string>, roles: readonly DatabaseRoleGrant[] = DATABASE_ROLES): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ me: string; superuser: boolean }>('select current_user as me, rolsuper as superuser from pg_roles where rolname = current_user');
    const admin = rows[0]!;
    await ensureRole(client, EVENT_STORE_OWNER, `nologin ${ROLE_ATTRIBUTES}`);
    for (const r of roles) {
      await ensureRole(client, checked(r.role), `login ${ROLE_ATTRIBUTES}`);
      await run(client, `alter role %I with password %L`, r.role, scramVerifier(await passwordOf(r.role)));
    }
    for (const r of roles) for (const parent of r.memberOf) await run(client, 'grant %I to %I', checked(parent), r.role);
    if (!admin.superuser) {
      for (const role of [EVENT_STORE_OWNER, ...roles.map((r) => r.role)]) await run(client, 'grant %I to %I with inherit false, set true', role, admin.me);
    }
  } finally {
    await client.end();
  }
}

async function ensureRole(client: Client, role: string, attributes: string): Promise<void> {
  const { rowCount } = await client.query('select 1 from pg_roles where rolname = $1', [role]);
  // Attributes are fixed keywords from this file, not data.
  if (rowCount === 0) await run(client, `create role %I ${attributes}`, role);
  else await run(client, `alter role %I with ${attributes}`, role);
}

/**
 * Gives the database at `adminUrl` (its own database, not the server's) the layout of the
 * grants table: each service's schema owned by its role, the event store owned by
 * EVENT_STORE_OWNER and migrated, and the grants. Objects an earlier version left owned by
 * the admin (a data directory from before roles) are handed to their schema's owner.
 */
export async function bootstrapDatabase(adminUrl: string, roles: readonly DatabaseRoleGrant[] = DATABASE_ROLES): Promise<void> {
  const pool = new pg.Pool({ connectionString: adminUrl, max: 2 });
  try {
    const client = await pool.connect();
    try {
      const { rows } = await client.query<{ db: string }>('select current_database() as db');
      const db = rows[0]!.db;
      // Only the roles of the table (and the admin, who owns the database or is superuser) connect.
      await run(client, 'revoke connect, temporary on database %I from public', db);
      for (const r of roles) {
        await run(client, 'grant connect on database %I to %I', db, r.role);
        if (r.createSchemas) await run(client, 'grant create on database %I to %I', db, r.role);
        else await run(client, 'revoke create on database %I from %I', db, r.role);
      }
      await ensureSchema(client, EVENT_STORE_SCHEMA, EVENT_STORE_OWNER);
      for (const r of roles) for (const schema of r.schemas) await ensureSchema(client, checked(schema), r.role);
    } finally {
      client.release();
    }
    // Migrated as its owner (runMigrations acts as the schema's owner), so append_batch runs with the owner's rights.
    const store = createPostgresEventStore({ pool, schema: EVENT_STORE_SCHEMA });
    await store.migrate();
    await store.close();
    await grantEventStore(pool, roles);
    for (const r of roles) for (const schema of r.reads) await grantRead(pool, roles, r.role, schema);
  } finally {
    await pool.end();
  }
}

/** The schema, owned by `owner`: created, or taken over with everything in it. */
async function ensureSchema(client: Client, schema: string, owner: string): Promise<void> {
  const { rows } = await client.query<{ owner: string }>('select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = $1', [schema]);
  if (rows.length === 0) {
    await run(client, 'create schema %I authorization %I', schema, owner);
    return;
  }
  if (rows[0]!.owner !== owner) await run(client, 'alter schema %I owner to %I', schema, owner);
  // Tables (their indexes, owned sequences and row types follow), views, other sequences, functions, types.
  const { rows: objects } = await client.query<{ kind: string; name: string }>(
    `select 'table' as kind, c.oid::regclass::text as name from pg_class c
       where c.relnamespace = $1::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S') and pg_get_userbyid(c.relowner) <> $2
     union all
     select 'function', p.oid::regprocedure::text from pg_proc p where p.pronamespace = $1::regnamespace and pg_get_userbyid(p.proowner) <> $2
     union all
     select 'type', t.oid::regtype::text from pg_type t where t.typnamespace = $1::regnamespace and t.typtype in ('e', 'd', 'r') and pg_get_userbyid(t.typowner) <> $2`,
    [schema, owner],
  );
  for (const o of objects) {
    // The names come from the catalog already quoted (regclass/regprocedure/regtype text).
    const statement = o.kind === 'table' ? 'alter table %s owner to %I' : o.kind === 'function' ? 'alter function %s owner to %I' : 'alter type %s owner to %I';
    await run(client, statement, o.name, owner).catch((error: { code?: string }) => {
      // An owned sequence already moved with its table.
      if (error.code !== '0A000') throw error;
    });
  }
}

const APPEND_FUNCTION = 'append_batch(text[], integer[], integer[], integer[], text[], text[], jsonb[], jsonb[], boolean)';
const READ_FUNCTION = 'read_page(xid8, bigint, integer, text[])';

async function grantEventStore(db: Pick<pg.Pool, 'query'>, roles: readonly DatabaseRoleGrant[]): Promise<void> {
  const s = EVENT_STORE_SCHEMA;
  for (const r of roles) {
    await run(db, 'grant usage on schema %I to %I', s, r.role);
    await run(db, 'grant select on %I.events, %I.streams, %I.event_store_migrations to %I', s, s, s, r.role);
    await run(db, 'revoke insert, update, delete, truncate, references, trigger on %I.events, %I.streams, %I.event_store_migrations from %I', s, s, s, r.role);
    await run(db, `grant execute on function %I.${READ_FUNCTION} to %I`, s, r.role);
    if (r.eventStore === 'append') await run(db, `grant execute on function %I.${APPEND_FUNCTION} to %I`, s, r.role);
    else await run(db, `revoke execute on function %I.${APPEND_FUNCTION} from %I`, s, r.role);
  }
}

/** SELECT on the tables of another service's schema, now and (default privileges) those its owner makes later. */
async function grantRead(db: Pick<pg.Pool, 'query'>, roles: readonly DatabaseRoleGrant[], role: string, schema: string): Promise<void> {
  const owner = roles.find((r) => r.schemas.includes(schema))?.role;
  if (!owner) throw new Error(`no role of the grants table owns schema ${schema}`);
  await run(db, 'grant usage on schema %I to %I', checked(schema), role);
  await run(db, 'grant select on all tables in schema %I to %I', schema, role);
  await run(db, 'alter default privileges for role %I in schema %I grant select on tables to %I', owner, schema, role);
}
