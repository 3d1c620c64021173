/**
 * PostgreSQL least privilege, walked over the grants table (libs/local-servers/src/database-roles.ts):
 * every role logs in with its own password (file), can do what it needs — its own schema,
 * the event store through its API — and is refused (permission denied, 42501) everything
 * else: another service's schema, the event store's tables written directly, DDL on the
 * event store, creating roles or schemas, reading pg_authid. The roles and grants are the
 * ones the test setup made with the same bootstrap `npm start` runs.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPostgresEventStore } from '@fairlead/event-store';
import { DATABASE_ROLES, EVENT_STORE_SCHEMA, localDatabaseUrl, localPassword, passwordFileOf, passwordsDir, scramVerifier, type DatabaseRoleGrant } from '@fairlead/local-servers';
import { databaseConnection } from '@fairlead/platform';
import { createTestDatabase, serverDatabaseUrl, type TestDatabase } from '@fairlead/testing';

const BOOTSTRAP = fileURLToPath(new URL('../../infra/src/db-bootstrap.ts', import.meta.url));

let db: TestDatabase;
const pools = new Map<string, pg.Pool>();

/** A pool logged in as `role`, the way a service is: URL without password plus DATABASE_PASSWORD_FILE. */
function poolOf(role: string): pg.Pool {
  let pool = pools.get(role);
  if (!pool) {
    const url = new URL(db.url);
    url.username = role;
    url.password = '';
    pool = new pg.Pool({ ...databaseConnection({ DATABASE_URL: url.toString(), DATABASE_PASSWORD_FILE: passwordFileOf(inject('databaseRolesDir'), role) }), max: 2 });
    pools.set(role, pool);
  }
  return pool;
}

async function denied(promise: Promise<unknown>): Promise<string> {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: string; message?: string } | undefined;
  expect(error, 'expected permission denied, but it was allowed').toBeDefined();
  expect(error!.code, error!.message).toBe('42501');
  return error!.message ?? '';
}

const others = (r: DatabaseRoleGrant) => DATABASE_ROLES.filter((o) => o.role !== r.role && !r.memberOf.includes(o.role));
const appendOne = (pool: pg.Pool, stream: string) => {
  const store = createPostgresEventStore({ pool, groupCommit: false });
  return store.append(stream, [{ id: randomUUID(), type: 'Probed', data: { by: stream } }], 'any').finally(() => store.close());
};

beforeAll(async () => {
  expect(inject('databaseRolesDir'), 'the test setup made the database roles').not.toBe('');
  db = await createTestDatabase('db_roles');
  // Each service's schema holds a table it made, as its migrations do.
  for (const r of DATABASE_ROLES) {
    for (const schema of r.schemas) await poolOf(r.role).query(`create table ${schema}.owned_probe (id integer primary key, note text)`);
  }
  // A table a service makes after the bootstrap (its first start): readers of its schema see it too.
  for (const r of DATABASE_ROLES) for (const schema of r.schemas) await poolOf(r.role).query(`create table ${schema}.made_later (n integer)`);
}, 120_000);

afterAll(async () => {
  await Promise.all([...pools.values()].map((p) => p.end()));
  await db?.drop();
});

describe.each(DATABASE_ROLES.map((r) => [r.role, r] as const))('database role %s', (_name, r) => {
  it('logs in as itself, not as a superuser, and may not create roles or read pg_authid', async () => {
    const pool = poolOf(r.role);
    const { rows } = await pool.query<{ me: string; su: boolean; createrole: boolean; createdb: boolean }>(
      'select current_user as me, rolsuper as su, rolcreaterole as createrole, rolcreatedb as createdb from pg_roles where rolname = current_user',
    );
    expect(rows[0]).toEqual({ me: r.role, su: false, createrole: false, createdb: false });
    await denied(pool.query(`create role probe_${randomUUID().slice(0, 8)}`));
    await denied(pool.query('select rolpassword from pg_authid'));
    await denied(pool.query(`alter role ${r.role} superuser`));
  });

  it('uses its own schema: creates, writes, reads and drops its tables', async () => {
    for (const schema of r.schemas) {
      const pool = poolOf(r.role);
      await pool.query(`create table ${schema}.walk_probe (n integer)`);
      await pool.query(`insert into ${schema}.walk_probe values (1)`);
      expect((await pool.query(`select count(*)::int as n from ${schema}.walk_probe`)).rows[0]).toEqual({ n: 1 });
      await pool.query(`drop table ${schema}.walk_probe`);
    }
  });

  it("cannot read, write or change another service's schema", async () => {
    const pool = poolOf(r.role);
    for (const other of others(r)) {
      for (const schema of other.schemas) {
        if (!r.reads.includes(schema)) await denied(pool.query(`select * from ${schema}.owned_probe`));
        await denied(pool.query(`insert into ${schema}.owned_probe values (1, 'forged')`));
        await denied(pool.query(`create table ${schema}.intruder (x int)`));
        await denied(pool.query(`drop table ${schema}.owned_probe`));
      }
    }
  });

  it('reads the event log through the store, and migrate() finds it up to date', async () => {
    const store = createPostgresEventStore({ pool: poolOf(r.role) });
    try {
      expect(await store.migrate()).toEqual({ applied: [] });
      await store.readStream('probe-none');
      await store.readAll({ transactionId: 0n, globalPosition: 0n }, 10);
      // An event by its id, as the operator API's decision record reads its rounds' events.
      await poolOf(r.role).query(`select data -> 'candidates' from ${EVENT_STORE_SCHEMA}.events where event_id = $1`, ['probe-none']);
    } finally {
      await store.close();
    }
  });

  it(r.eventStore === 'append' ? 'appends through append_batch' : 'may not append', async () => {
    const attempt = appendOne(poolOf(r.role), `probe-${r.role}`);
    if (r.eventStore === 'append') expect((await attempt).appended).toBe(1);
    else await denied(attempt);
  });

  it("cannot write the event store's tables directly nor change its schema", async () => {
    const pool = poolOf(r.role);
    const s = EVENT_STORE_SCHEMA;
    await denied(
      pool.query(`insert into ${s}.events (event_id, stream_name, stream_version, type, data) values ($1, 'forged-1', 1, 'Forged', '{}')`, [randomUUID()]),
    );
    await denied(pool.query(`update ${s}.events set data = '{"forged": true}'`));
    await denied(pool.query(`delete from ${s}.events`));
    await denied(pool.query(`update ${s}.streams set version = version + 1`));
    await denied(pool.query(`truncate ${s}.events`));
    await denied(pool.query(`create table ${s}.intruder (x int)`));
    await denied(pool.query(`drop function ${s}.append_batch`));
    await denied(pool.query(`alter table ${s}.events disable trigger all`));
    await denied(pool.query(`delete from ${s}.event_store_migrations`));
  });

  it(r.createSchemas ? 'may create schemas of its own (replay)' : 'may not create schemas', async () => {
    const name = `probe_${randomUUID().slice(0, 8)}`;
    const attempt = poolOf(r.role).query(`create schema ${name}`);
    if (r.createSchemas) {
      await attempt;
      await poolOf(r.role).query(`drop schema ${name}`);
    } else await denied(attempt);
  });

  it('reads the schemas of other services the table names (tables made later too), and cannot change them', async () => {
    const pool = poolOf(r.role);
    for (const schema of r.reads) {
      await pool.query(`select count(*) from ${schema}.owned_probe`);
      await pool.query(`select count(*) from ${schema}.made_later`);
      await denied(pool.query(`delete from ${schema}.made_later`));
      await denied(pool.query(`insert into ${schema}.owned_probe values (2, 'forged')`));
    }
    if (!r.reads.includes('notification') && !r.schemas.includes('notification')) await denied(pool.query('select * from notification.made_later'));
  });
});

describe('the layout the bootstrap made', () => {
  it('the event store belongs to its no-login owner; append_batch runs with its rights and a pinned search_path; each schema belongs to its role', async () => {
    const { rows: tables } = await db.pool.query<{ owner: string }>(
      "select distinct pg_get_userbyid(relowner) as owner from pg_class where relnamespace = 'eventstore'::regnamespace",
    );
    expect(tables).toEqual([{ owner: 'fairlead_eventstore' }]);
    const { rows: owner } = await db.pool.query("select rolcanlogin from pg_roles where rolname = 'fairlead_eventstore'");
    expect(owner).toEqual([{ rolcanlogin: false }]);
    const { rows: fn } = await db.pool.query<{ prosecdef: boolean; proconfig: string[] }>(
      "select prosecdef, proconfig from pg_proc where proname = 'append_batch' and pronamespace = 'eventstore'::regnamespace",
    );
    expect(fn[0]!.prosecdef).toBe(true);
    expect(fn[0]!.proconfig).toContain('search_path=pg_catalog, pg_temp');
    for (const r of DATABASE_ROLES) {
      for (const schema of r.schemas) {
        const { rows } = await db.pool.query('select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = $1', [schema]);
        expect(rows, schema).toEqual([{ owner: r.role }]);
      }
    }
  });

  it('a role that would have to change a schema it may not is told to run the bootstrap', async () => {
    const store = createPostgresEventStore({ pool: poolOf('fairlead_billing'), schema: 'eventstore_unbootstrapped' });
    try {
      await expect(store.migrate()).rejects.toMatchObject({ code: 'MIGRATION_FAILED', message: expect.stringContaining('npm run db:bootstrap') });
    } finally {
      await store.close();
    }
  });
});

describe('the operator CLI role', () => {
  it("acts as the operator API's role for its read models (a replay moves and hands back their tables)", async () => {
    const cli = poolOf('fairlead_operator_cli');
    await cli.query('insert into operator.owned_probe values (7, $1)', ['rebuilt']);
    await cli.query('create schema cli_shadow; create table cli_shadow.t (x int); alter table cli_shadow.t set schema operator');
    await cli.query('alter table operator.t owner to fairlead_operator_api');
    await poolOf('fairlead_operator_api').query('insert into operator.t values (1)');
    await cli.query('drop table operator.t; drop schema cli_shadow');
  });
});

describe('npm run db:bootstrap (a deployment\'s init step)', () => {
  it('lays out an empty database for the roles, idempotently, and each role then works with its password file', async () => {
    const empty = await createTestDatabase('db_bootstrap', { roles: false });
    // The run's own password files: the roles are cluster-wide, other test files log in with these.
    const dir = passwordsDir(inject('databaseRolesDir'));
    const env = { ...process.env, DATABASE_ADMIN_URL: empty.url, FAIRLEAD_DB_PASSWORDS_DIR: dir };
    try {
      for (let run = 0; run < 2; run++) {
        const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          execFile(process.execPath, ['--import', 'tsx', BOOTSTRAP], { env }, (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }));
        });
        expect(code, stderr).toBe(0);
        expect(stdout).toContain(`billing          DATABASE_URL=${new URL(`postgres://fairlead_billing@${new URL(empty.url).host}${new URL(empty.url).pathname}`).toString()} DATABASE_PASSWORD_FILE=${join(dir, 'fairlead_billing.password')}`);
        expect(stdout).not.toContain(new URL(serverDatabaseUrl()).password);
      }
      const url = new URL(empty.url);
      url.username = 'fairlead_intake';
      url.password = '';
      const pool = new pg.Pool(databaseConnection({ DATABASE_URL: url.toString(), DATABASE_PASSWORD_FILE: join(dir, 'fairlead_intake.password') }));
      try {
        expect((await appendOne(pool, 'probe-bootstrapped')).appended).toBe(1);
        await denied(pool.query('delete from eventstore.events'));
      } finally {
        await pool.end();
      }
    } finally {
      await empty.drop();
    }
  }, 120_000);

  it('refuses to start without an admin URL, and says so', async () => {
    const { DATABASE_ADMIN_URL: _unset, ...env } = process.env;
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', BOOTSTRAP], { env: { ...env, FAIRLEAD_DB_PASSWORDS_DIR: '/nonexistent' } }, (error, _stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }));
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('DATABASE_ADMIN_URL');
  });
});

describe('passwords', () => {
  it('are files of mode 0600 in a 0700 directory, different per data directory, and rotate without a restart', async () => {
    const [a, b] = [await mkdtemp(join(tmpdir(), 'pw-a-')), await mkdtemp(join(tmpdir(), 'pw-b-'))];
    try {
      const first = await localPassword(a, 'fairlead_billing');
      expect(await localPassword(a, 'fairlead_billing')).toBe(first);
      expect(await localPassword(b, 'fairlead_billing')).not.toBe(first);
      expect(await localPassword(a, 'fairlead_fairness')).not.toBe(first);
      expect(first.length).toBeGreaterThanOrEqual(32);
      expect((await stat(passwordFileOf(a, 'fairlead_billing'))).mode & 0o777).toBe(0o600);
      expect((await stat(join(a, 'auth', 'postgres'))).mode & 0o777).toBe(0o700);
      // The test run's own files.
      const runDir = inject('databaseRolesDir');
      for (const r of DATABASE_ROLES) expect((await stat(passwordFileOf(runDir, r.role))).mode & 0o777).toBe(0o600);
    } finally {
      await Promise.all([a, b].map((d) => rm(d, { recursive: true, force: true })));
    }
  });

  it('DATABASE_PASSWORD_FILE wins over the URL, and a rotated password (ALTER ROLE, then the file) works for new connections', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pw-rotate-'));
    const role = `rotate_${randomUUID().slice(0, 8)}`;
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const file = join(dir, 'password');
      await writeFile(file, 'first-password-0123456789abcdef\n', { mode: 0o600 });
      const sql = await admin.query<{ sql: string }>("select format('create role %I login password %L', $1::text, $2::text) as sql", [role, scramVerifier('first-password-0123456789abcdef')]);
      await admin.query(sql.rows[0]!.sql);
      const url = new URL(db.url);
      url.username = role;
      url.password = 'wrong-password-in-the-url';
      // A role outside the grants table may not even connect: the bootstrap took CONNECT from PUBLIC.
      const outsider = new pg.Client(databaseConnection({ DATABASE_URL: url.toString(), DATABASE_PASSWORD_FILE: file }));
      await denied(outsider.connect());
      await outsider.end().catch(() => undefined);
      await admin.query(`grant connect on database ${new URL(db.url).pathname.slice(1)} to ${role}`);
      const connect = async () => {
        const client = new pg.Client(databaseConnection({ DATABASE_URL: url.toString(), DATABASE_PASSWORD_FILE: file }));
        await client.connect();
        const { rows } = await client.query<{ me: string }>('select current_user as me');
        await client.end();
        return rows[0]!.me;
      };
      expect(await connect()).toBe(role);
      const rotated = await admin.query<{ sql: string }>("select format('alter role %I password %L', $1::text, $2::text) as sql", [role, scramVerifier('second-password-0123456789abcdef')]);
      await admin.query(rotated.rows[0]!.sql);
      // The old password no longer opens; after the file is rewritten, a new connection does.
      await expect(connect()).rejects.toMatchObject({ code: '28P01' });
      await writeFile(file, 'second-password-0123456789abcdef\n');
      expect(await connect()).toBe(role);
      // Without the file, the URL's (wrong) password is used and refused.
      const plain = new pg.Client({ connectionString: url.toString() });
      await expect(plain.connect()).rejects.toMatchObject({ code: '28P01' });
      await plain.end().catch(() => undefined);
    } finally {
      await admin.query(`drop role if exists ${role}`).catch(() => undefined);
      await admin.end();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("localDatabaseUrl finds a role's URL and password file without a variable, and knows no other roles", () => {
    const local = localDatabaseUrl({ dataDir: '/srv/fairlead-data', role: 'billing', port: 54329 });
    expect(local).toEqual({
      role: 'fairlead_billing',
      url: 'postgres://fairlead_billing@127.0.0.1:54329/fairlead',
      passwordFile: '/srv/fairlead-data/auth/postgres/fairlead_billing.password',
      env: { DATABASE_URL: 'postgres://fairlead_billing@127.0.0.1:54329/fairlead', DATABASE_PASSWORD_FILE: '/srv/fairlead-data/auth/postgres/fairlead_billing.password' },
    });
    expect(localDatabaseUrl({ dataDir: '/d', port: 1 }).role).toBe('fairlead_operator_cli');
    expect(localDatabaseUrl({ dataDir: '/d', port: 1, role: 'admin' }).url).toBe('postgres://postgres@127.0.0.1:1/fairlead');
    expect(() => localDatabaseUrl({ dataDir: '/d', role: 'pg_read_all_data' })).toThrow(/no database role/);
    expect(() => localDatabaseUrl({ dataDir: '/d', role: '../../etc/passwd' })).toThrow();
  });

  it('never ends up in the repository or a URL the services get', async () => {
    const url = db.serviceEnv('billing');
    expect(new URL(url.DATABASE_URL!).password).toBe('');
    expect(await readFile(url.DATABASE_PASSWORD_FILE!, 'utf8')).toMatch(/^[A-Za-z0-9_-]{32,}\n$/);
  });
});
