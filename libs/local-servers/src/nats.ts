import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';

export interface NatsServerOptions {
  port: number;
  /** JetStream storage directory. */
  storeDir: string;
  /** Receives server log lines; silent by default. */
  onLog?: (line: string) => void;
  /** More command-line arguments (e.g. `['-c', 'node.conf']` for a cluster node's configuration). */
  extraArgs?: readonly string[];
  /** Called when the server exits without stop() or kill() (a crash, someone's kill). */
  onUnexpectedExit?: (description: string) => void;
}

export interface RunningNats {
  url: string;
  port: number;
  /** Stops the server: SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), for crash tests. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and store, after stop() or kill(). */
  restart(): Promise<void>;
  /** The server's pid while it runs. */
  pid(): number | undefined;
}

const INSTALL_HINT =
  'nats-server was not found. Install it with `apt-get install -y nats-server` (Debian/Ubuntu), ' +
  '`brew install nats-server` (macOS), or download it from the NATS project, and put it on PATH. ' +
  'Or set NATS_URL to an existing server with JetStream enabled.';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findNatsServer(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/sbin', '/usr/local/sbin', '/usr/local/bin']) {
    const candidate = join(dir, 'nats-server');
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Finds nats-server; when missing and running as root on Debian/Ubuntu, installs it from
 * the OS packages. Otherwise fails with a message that says how to get it.
 */
export function ensureNatsServer(log: (line: string) => void = console.log): string {
  const found = findNatsServer();
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && existsSync('/usr/bin/apt-get')) {
    log('nats-server not found; installing it with apt-get (Debian package nats-server)…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    const install = spawnSync('apt-get', ['install', '-y', '-qq', 'nats-server'], { stdio: 'inherit', env });
    const installed = findNatsServer();
    if (installed) return installed;
    throw new Error(`${INSTALL_HINT} (apt-get update exited ${update.status}, install exited ${install.status})`);
  }
  throw new Error(INSTALL_HINT);
}

/** Starts a loopback nats-server with JetStream and waits until it is ready. */
export async function startNatsServer(options: NatsServerOptions): Promise<RunningNats> {
  const binary = ensureNatsServer(options.onLog);
  const storeDir = resolve(options.storeDir);
  await mkdir(storeDir, { recursive: true });
  const log = options.onLog ?? (() => undefined);
  const pidFile = join(storeDir, 'nats-server.pid');
  await stopLeftoverServer(pidFile, storeDir, log);
  let child: ChildProcess | undefined;
  let expectingExit = false;

  const launch = async (): Promise<void> => {
    expectingExit = false;
    const args = ['-a', '127.0.0.1', '-p', String(options.port), '-js', '-sd', storeDir, '-P', pidFile, ...(options.extraArgs ?? [])];
    // A session of its own: a terminal's Ctrl-C reaches our supervisor, which stops the
    // services first and then this server.
    const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child = proc;
    const exited = new Promise<string>((r) => proc.once('exit', (code, signal) => r(signal ? `killed by ${signal}` : `exited with code ${code}`)));
    let ready = false;
    void exited.then((description) => {
      if (child === proc) child = undefined;
      // A server that never got ready is the start's failure, thrown by launch().
      if (ready && !expectingExit) options.onUnexpectedExit?.(description);
    });
    const readiness = new Promise<void>((resolveReady, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`nats-server did not become ready:\n${output}`)), 20_000);
      const onData = (chunk: Buffer) => {
        const text = chunk.toString();
        output += text;
        for (const line of text.split('\n')) if (line) log(line);
        if (!ready && output.includes('Server is ready')) {
          ready = true;
          clearTimeout(timer);
          resolveReady();
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      void exited.then((description) => {
        if (ready) return;
        clearTimeout(timer);
        reject(new Error(`nats-server ${description} before it was ready:\n${output}`));
      });
    });
    try {
      await readiness;
    } catch (error) {
      // Not ready in time: a server left running would hold the port and the store.
      proc.kill('SIGKILL');
      throw error;
    }
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    expectingExit = true;
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${options.port}`,
    port: options.port,
    stop: () => terminate('SIGTERM'),
    kill: () => terminate('SIGKILL'),
    restart: async () => {
      await terminate('SIGTERM');
      await launch();
    },
    pid: () => child?.pid,
  };
}

/**
 * A server of an earlier run that was killed together with its owner (kill -9) still holds
 * the port and the store: it is stopped, so this start can go on. Only a nats-server whose
 * command line names this store directory is touched.
 */
async function stopLeftoverServer(pidFile: string, storeDir: string, log: (line: string) => void): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  if (!cmdline.some((arg) => arg.endsWith('nats-server')) || !cmdline.includes(storeDir)) return;
  log(`a nats-server of an earlier run still uses ${storeDir} (pid ${pid}); stopping it`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
  }
}
