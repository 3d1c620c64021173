/**
 * The `fairlead` binary (bin/fairlead.js) as users run it: a child process, its exit code,
 * stdout and stderr. Help for every command (enumerated from the program, so a new command
 * is covered), one-line errors, replay and verify against a real database, an unreachable
 * one, the tickets roots, a token, and the projections of a running operator API.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDistributionEvent, streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import { createPostgresEventStore } from '@fairlead/event-store';
import { bootstrapDatabase, freePort } from '@fairlead/local-servers';
import { createTestDatabase, startServiceProcess, testNamespace, testNatsUrl, waitFor, type ServiceProcess, type TestDatabase } from '@fairlead/testing';
import { allCommands, buildProgram, commandPath } from './program';

const BIN = fileURLToPath(new URL('../bin/fairlead.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the binary with exactly this environment (plus PATH and HOME), as a user's shell would. */
function fairlead(args: readonly string[], env: Record<string, string> = {}, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, cwd, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: child.exitCode ?? (error ? 1 : 0), stdout, stderr }),
    );
  });
}

/** A user error: one line on stderr, no stack trace. */
function expectOneLine(run: Run) {
  expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase('cli_bin');
  dir = await mkdtemp(join(tmpdir(), 'fairlead-cli-'));
});
afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('fairlead --help', () => {
  const io = { stdout: process.stdout, stderr: process.stderr, env: {}, cwd: '/', exit: () => undefined };
  const paths = allCommands(buildProgram(io))
    .filter((c) => c.name() !== 'help')
    .map(commandPath);

  it('answers for every command and subcommand of the program, exit code 0', async () => {
    expect(paths.length).toBeGreaterThanOrEqual(16);
    // A few at a time: each is a process of its own.
    for (let i = 0; i < paths.length; i += 4) {
      await Promise.all(
        paths.slice(i, i + 4).map(async (path) => {
          const run = await fairlead([...path.split(' ').slice(1), '--help']);
          expect(run.code, `${path}: ${run.stderr}`).toBe(0);
          expect(run.stdout).toContain(`Usage: ${path}`);
        }),
      );
    }
  }, 300_000);

  it('npm run fairlead -- --help answers too (the README command)', async () => {
    const run = await new Promise<Run>((resolve) => {
      const child = execFile('npm', ['run', '-s', 'fairlead', '--', '--help'], { cwd: fileURLToPath(new URL('../..', import.meta.url)) }, (_e, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }));
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Exit codes:');
  }, 120_000);
});

describe('errors of the user', () => {
  it('an unknown option: exit code 2, one line, no stack trace', async () => {
    const run = await fairlead(['verify', '--nope']);
    expect(run.code).toBe(2);
    expectOneLine(run);
    expect(run.stderr).toBe("fairlead verify: unknown option '--nope' (see: fairlead verify --help)\n");
  }, 60_000);

  it('an unreachable database: exit code 3, one line saying what to do, for DATABASE_URL and for the local default', async () => {
    const port = await freePort();
    const given = await fairlead(['verify'], { DATABASE_URL: `postgres://u:secret@127.0.0.1:${port}/x` });
    expect(given.code).toBe(3);
    expectOneLine(given);
    expect(given.stderr).toContain(`cannot reach PostgreSQL at postgres://u:***@127.0.0.1:${port}/x (ECONNREFUSED): check DATABASE_URL`);
    expect(given.stderr).not.toContain('secret');

    const local = await fairlead(['audit', 'lead', 'L1'], { FAIRLEAD_PG_PORT: String(port) });
    expect(local.code).toBe(3);
    expectOneLine(local);
    expect(local.stderr).toContain('start the local system with `npm start`');

    const tickets = await fairlead(['tickets', 'history'], { FAIRLEAD_PG_PORT: String(port) });
    expect(tickets.code).toBe(3);
    expectOneLine(tickets);
  }, 60_000);

  it('a bad password is exit code 3 as well, without the password', async () => {
    const url = new URL(db.url);
    url.password = 'wrong-password';
    url.username = 'nobody_here';
    const run = await fairlead(['verify'], { DATABASE_URL: url.toString() });
    expect(run.code).toBe(3);
    expectOneLine(run);
    expect(run.stderr).not.toContain('wrong-password');
  }, 60_000);
});

describe('a database that is not Fairlead’s', () => {
  it('audit on a database without the event store: exit 1, one line asking whether DATABASE_URL is right', async () => {
    const empty = await createTestDatabase('cli_empty', { roles: false }); // no bootstrap: no event store in it
    try {
      const run = await fairlead(['audit', 'lead', 'L1'], { DATABASE_URL: empty.url });
      expect(run.code).toBe(1);
      expectOneLine(run);
      expect(run.stderr).toMatch(/^fairlead: .*does not exist: is DATABASE_URL the Fairlead database/);
    } finally {
      await empty.drop();
    }
  }, 60_000);
});

/** Two providers' first top-up, straight into the store (as billing records it). */
async function topUps(database: TestDatabase, providers: readonly string[]): Promise<void> {
  const store = createPostgresEventStore({ pool: database.pool });
  try {
    for (const p of providers) {
      const data = parseDistributionEvent('WalletToppedUp', { provider_id: p, amount_cents: 10_000, balance_after_cents: 10_000, reference: 'initial', actor: SYSTEM_ACTOR });
      await store.append(streams.wallet(p), [{ id: randomUUID(), type: 'WalletToppedUp', data, metadata: {} }], 'any');
    }
  } finally {
    await store.close();
  }
}

/** Tables, views and sequences of the operator API's schema that are not its role's (indexes follow their table), and schemas the CLI's role was left owning. */
async function foreignOwnership(database: TestDatabase): Promise<{ relations: unknown[]; cliSchemas: unknown[] }> {
  const relations = await database.pool.query(
    `select c.relname, pg_get_userbyid(c.relowner) as owner from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'operator' and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and pg_get_userbyid(c.relowner) <> 'fairlead_operator_api' order by 1`,
  );
  const cliSchemas = await database.pool.query(`select nspname from pg_namespace where pg_get_userbyid(nspowner) = 'fairlead_operator_cli'`);
  return { relations: relations.rows, cliSchemas: cliSchemas.rows };
}

describe('replay and verify where the operator API never ran', () => {
  it('refuse with exit 1 and one line saying to start the API once, creating nothing of the API’s', async () => {
    await topUps(db, ['p1', 'p2']);
    // As the operator CLI's own role (as `fairlead` logs in on npm start's database).
    const env = db.serviceEnv('fairlead_operator_cli');
    for (const args of [['replay', 'all'], ['replay', 'wallets'], ['verify']]) {
      const run = await fairlead(args, env);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(1);
      expectOneLine(run);
      expect(run.stderr).toMatch(/^fairlead: read_models_not_set_up: the operator API has not set up its read models in schema operator yet .*: start the operator API once/);
    }
    // Nothing in the API's schema (it would be the CLI's, and the API could not start: permission denied), no shadow left.
    expect((await db.pool.query(`select relname from pg_class where relnamespace = 'operator'::regnamespace`)).rows).toEqual([]);
    expect(await foreignOwnership(db)).toEqual({ relations: [], cliSchemas: [] });

    // A past state (the first top-up alone) into a schema of its own needs nothing of the API's: still allowed.
    const first = await db.pool.query<{ position: string }>(`select min(global_position)::text as position from eventstore.events`);
    const past = await fairlead(['replay', 'wallets', '--until', first.rows[0]!.position, '--into', 'cli_asof'], env);
    expect(past.code, past.stderr).toBe(0);
    expect((await db.pool.query(`select provider_id, balance_cents from cli_asof.wallets`)).rows).toEqual([{ provider_id: 'p1', balance_cents: '10000' }]);
    expect((await db.pool.query(`select relname from pg_class where relnamespace = 'operator'::regnamespace`)).rows).toEqual([]);
  }, 180_000);

  it('a database without the operator schema at all (not bootstrapped): refused the same way, no schema made', async () => {
    const bare = await createTestDatabase('cli_bare');
    try {
      await bare.pool.query('drop schema operator cascade');
      const run = await fairlead(['replay', 'all'], bare.serviceEnv('fairlead_operator_cli'));
      expect(run.code).toBe(1);
      expectOneLine(run);
      expect(run.stderr).toMatch(/^fairlead: read_models_not_set_up: schema operator does not exist in this database: run the database bootstrap \(npm run db:bootstrap/);
      expect((await bare.pool.query(`select 1 from pg_namespace where nspname = 'operator'`)).rowCount).toBe(0);
      expect(await foreignOwnership(bare)).toEqual({ relations: [], cliSchemas: [] });
    } finally {
      await bare.drop();
    }
  }, 60_000);

  it('a database an older replay left with a checkpoint table of the CLI’s: refused, saying to run the bootstrap, which repairs it (docs/runbook.md)', async () => {
    const damaged = await createTestDatabase('cli_damaged');
    try {
      // What `replay all` did before it refused: the API's checkpoint table, made as (and owned by) the CLI's role.
      await damaged.pool.query(`create table operator.projection_checkpoints (name text primary key)`);
      await damaged.pool.query(`alter table operator.projection_checkpoints owner to fairlead_operator_cli`);
      expect((await foreignOwnership(damaged)).relations).toEqual([{ relname: 'projection_checkpoints', owner: 'fairlead_operator_cli' }]);
      // The CLI says so rather than build on it.
      const run = await fairlead(['replay', 'all'], damaged.serviceEnv('fairlead_operator_cli'));
      expect(run.code).toBe(1);
      expectOneLine(run);
      expect(run.stderr).toMatch(/operator\.projection_checkpoints belongs to fairlead_operator_cli, not to the schema's owner fairlead_operator_api: run the database bootstrap \(npm run db:bootstrap\)/);
      await bootstrapDatabase(damaged.url);
      expect(await foreignOwnership(damaged)).toEqual({ relations: [], cliSchemas: [] });
    } finally {
      await damaged.drop();
    }
  }, 60_000);
});

describe('tickets', () => {
  it('refuses a path outside its root: .. as a usage error, an absolute path outside as refused (exit 1)', async () => {
    const workspace = join(dir, 'workspace');
    await mkdir(join(workspace, 'projects', 'web'), { recursive: true });
    await writeFile(join(dir, 'outside.md'), 'SECRET {{project_name}}');
    const env = { ...db.serviceEnv('ticket-workflow'), INIT_CWD: workspace };
    const dotdot = await fairlead(['tickets', 'distribute', '--template', '../outside.md', '--dir', 'projects/web'], env);
    expect(dotdot.code).toBe(2);
    expectOneLine(dotdot);
    expect(dotdot.stderr).toContain("'..' is not allowed in paths");

    const outside = await fairlead(['tickets', 'distribute', '--template', join(dir, 'outside.md'), '--dir', 'projects/web', '--dry-run'], env);
    expect(outside.code).toBe(1);
    expectOneLine(outside);
    expect(outside.stderr).toMatch(/^fairlead: PATH_NOT_ALLOWED: /);
    expect(outside.stdout + outside.stderr).not.toContain('SECRET');
  }, 120_000);
});

describe('the operator API as its own role, and the CLI as its own, on one database', () => {
  let api: ServiceProcess;
  let apiDb: TestDatabase;
  let secretFile: string;
  beforeAll(async () => {
    secretFile = join(dir, 'auth', 'jwt-secret');
    // A database of its own, where the API sets up its read models (the one above has none).
    apiDb = await createTestDatabase('cli_api');
    await topUps(apiDb, ['p1', 'p2']);
    api = await startServiceProcess({
      service: 'operator-api',
      env: { DATABASE_URL: apiDb.url, NATS_URL: testNatsUrl(), NATS_NAMESPACE: testNamespace('cli_bin'), JWT_SECRET_FILE: secretFile, JWT_SECRET: '' },
    });
  });
  afterAll(async () => {
    await api?.stop();
    await apiDb?.drop();
  });

  it('token mints what the API accepts, from the same development secret', async () => {
    const run = await fairlead(['token', '--role', 'viewer', '--sub', 'vic', '--ttl', '5m'], { JWT_SECRET_FILE: secretFile });
    expect(run.code, run.stderr).toBe(0);
    const jwt = run.stdout.trim();
    expect(decodeJwt(jwt)).toMatchObject({ sub: 'vic', roles: ['viewer'], iss: 'fairlead', aud: 'fairlead-operator-api' });
    const res = await fetch(`http://127.0.0.1:${api.port}/api/v1/admin/niches`, { headers: { authorization: `Bearer ${jwt}` } });
    expect(res.status).toBe(200);
  }, 60_000);

  it('projections list finds the API by its port variable and mints its own token from the development secret', async () => {
    const env = { FAIRLEAD_OPERATOR_API_PORT: String(api.port), JWT_SECRET_FILE: secretFile };
    const list = await fairlead(['projections', 'list', '--json'], env);
    expect(list.code, list.stderr).toBe(0);
    const answer = JSON.parse(list.stdout) as { items: { name: string; state: string }[]; stalled: number };
    expect(answer.items.map((r) => r.name)).toEqual(expect.arrayContaining(['operator.wallets', 'operator.leads']));
    expect(answer.stalled).toBe(0);
    const table = await fairlead(['projections', 'list'], env);
    expect(table.stdout).toMatch(/^NAME\s+STATE\s+POSITION/);
    expect(table.stdout).toMatch(/operator\.wallets\s+running/);
  }, 60_000);

  it('retry of a projection that is not stalled, or of one nobody runs, is refused with exit 1 and the names that exist', async () => {
    const env = { FAIRLEAD_API_URL: `http://127.0.0.1:${api.port}`, JWT_SECRET_FILE: secretFile };
    const running = await fairlead(['projections', 'retry', 'operator.wallets'], env);
    expect(running.code).toBe(1);
    expectOneLine(running);
    expect(running.stderr).toMatch(/409 PROJECTION_NOT_STALLED/);
    const unknown = await fairlead(['projections', 'park', 'operator.nothing', '--event', 'e1', '--reason', 'test'], env);
    expect(unknown.code).toBe(1);
    expectOneLine(unknown);
    expect(unknown.stderr).toMatch(/no running process reports a projection named operator\.nothing; running: .*operator\.wallets/);
  }, 60_000);

  it('a forged token is refused by the API: exit 3, saying how to give another', async () => {
    const run = await fairlead(['projections', 'list', '--api', `http://127.0.0.1:${api.port}`, '--token', 'not.a.jwt']);
    expect(run.code).toBe(3);
    expectOneLine(run);
    expect(run.stderr).toMatch(/401.*give --token or FAIRLEAD_TOKEN/);
  }, 60_000);

  it('an operator API that is not running: exit 3, one line', async () => {
    const port = await freePort();
    const run = await fairlead(['projections', 'list'], { FAIRLEAD_OPERATOR_API_PORT: String(port), JWT_SECRET_FILE: secretFile });
    expect(run.code).toBe(3);
    expectOneLine(run);
    expect(run.stderr).toContain(`cannot reach the operator API at http://127.0.0.1:${port} (ECONNREFUSED): start the local system with \`npm start\``);
  }, 60_000);

  it('replay all while the API runs: switched, the read models stay the API’s, it keeps them up to date; verify finds a doctored row (exit 1)', async () => {
    const env = apiDb.serviceEnv('fairlead_operator_cli');
    const replay = await fairlead(['replay', 'all'], env);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/switched \d+ tables/);
    expect((await apiDb.pool.query(`select provider_id, balance_cents from operator.wallets order by 1`)).rows).toEqual([
      { provider_id: 'p1', balance_cents: '10000' },
      { provider_id: 'p2', balance_cents: '10000' },
    ]);
    expect(await foreignOwnership(apiDb)).toEqual({ relations: [], cliSchemas: [] });

    // The API's projectors write to the switched tables: a top-up recorded now reaches its HTTP answer.
    await topUps(apiDb, ['p3']);
    const token = (await fairlead(['token', '--role', 'viewer', '--sub', 'vic', '--ttl', '5m'], { JWT_SECRET_FILE: secretFile })).stdout.trim();
    await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${api.port}/api/v1/admin/providers/p3/wallet`, { headers: { authorization: `Bearer ${token}` } });
        return res.status === 200 && ((await res.json()) as { balance_cents: number }).balance_cents === 10_000;
      },
      { what: "p3's top-up in the API's answer after the switch-over" },
    );
    expect((await fetch(`http://127.0.0.1:${api.port}/readyz`)).status).toBe(200);

    const clean = await fairlead(['verify'], env);
    expect(clean.code, clean.stderr + clean.stdout).toBe(0);
    expect(clean.stdout).toMatch(/verify: \d+ tables identical/);

    await apiDb.pool.query(`update operator.wallets set balance_cents = 1 where provider_id = 'p2'`);
    const dirty = await fairlead(['verify'], env);
    expect(dirty.code).toBe(1);
    expect(dirty.stdout).toMatch(/wallets: 1 rows only in the live read model, 1 only in the rebuilt one/);

    const unknownLead = await fairlead(['audit', 'lead', 'nobody'], env);
    expect(unknownLead.code).toBe(1);
    expectOneLine(unknownLead);
    expect(unknownLead.stderr).toBe('fairlead: lead_not_found: no events for lead nobody\n');
  }, 180_000);
});
