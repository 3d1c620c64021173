import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrapBus, busIdentityOfService, freePort } from '@fairlead/local-servers';
import { serviceDatabaseEnv } from './database';
import { testNatsUrl, testSeed, testSeedFile } from './nats';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * How long a service process may take to become ready. Generous on purpose: on a shared
 * 2-core machine under load a service has taken more than 30 s; a test waits for readiness,
 * not for a fixed time, so a long deadline costs nothing when the machine is quick.
 */
export const READY_TIMEOUT_MS = 180_000;

/** For a beforeAll that starts service processes: the readiness deadline and some room. */
export const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 120_000;

export interface ServiceProcess {
  name: string;
  port: number;
  /** Everything the process wrote, for assertions and for failure messages. */
  output(): string;
  /** SIGKILL: no shutdown hooks run (a crash). */
  kill(): Promise<void>;
  /** SIGTERM (or the signal given, e.g. SIGINT as Ctrl-C sends it) and wait for a graceful exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the same process again (same environment; same port unless another process took it meanwhile) and waits until ready. */
  restart(): Promise<void>;
  readonly pid: number | undefined;
}

export interface ServiceProcessOptions {
  /** A folder under services/ with src/main.ts, or a path to a script relative to the repository root. */
  service: string;
  env: Record<string, string>;
  /** Node options before the entry (default `--import tsx`, to run TypeScript; `[]` runs a built bundle as is). */
  nodeArgs?: readonly string[];
  /** Waits for GET /readyz to answer 200 on HTTP_PORT (default); false: waits for nothing. */
  waitReady?: boolean;
  /** Longest wait for readiness (default READY_TIMEOUT_MS: a loaded machine starts a service in minutes). */
  readyTimeoutMs?: number;
  /**
   * Log in as the service's own database role (default true) when env.DATABASE_URL is a
   * test database made by createTestDatabase: as `npm start` runs it, so its grants are
   * exercised. False keeps the admin's DATABASE_URL.
   */
  databaseRole?: boolean;
  /** Where a port comes from when env.HTTP_PORT is not given (default: ask the kernel for a free one); for this helper's own tests. */
  freePort?: () => Promise<number>;
}

/**
 * Runs a service as a real child process (tsx), for end-to-end tests that cross process
 * boundaries or kill processes. HTTP_PORT is set to a free port unless given; SERVICE_NAME
 * is the service's folder unless given.
 */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const portGiven = Boolean(options.env.HTTP_PORT);
  const nextPort = options.freePort ?? freePort;
  let port = portGiven ? Number(options.env.HTTP_PORT) : await nextPort();
  const entry = options.service.includes('/') ? resolve(repoRoot, options.service) : resolve(repoRoot, 'services', options.service, 'src', 'main.ts');
  const serviceName = options.service.includes('/') ? /services\/([a-z-]+)\//.exec(options.service)?.[1] : options.service;
  const database = options.databaseRole !== false && options.env.DATABASE_URL && serviceName ? serviceDatabaseEnv(options.env.DATABASE_URL, serviceName) : undefined;
  let child: ChildProcess | undefined;
  let output = '';
  await ensureStreams(options.env);

  const launch = async () => {
    const proc = spawn(process.execPath, [...(options.nodeArgs ?? ['--import', 'tsx']), entry], {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'warn', SERVICE_NAME: options.service, ...serviceIdentityEnv(options), ...options.env, ...database, HTTP_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    if (options.waitReady === false) return;
    const timeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    let last = 'not listening yet';
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`${options.service} exited with ${proc.exitCode} before it was ready:\n${output}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5_000) });
        if (res.status === 200) return;
        last = `/readyz answered ${res.status}: ${(await res.text()).slice(0, 500)}`;
      } catch (error) {
        last = (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED' ? 'not listening yet' : `no answer: ${(error as Error).message}`;
      }
      if (Date.now() > deadline) throw new Error(`${options.service} was not ready within ${timeoutMs} ms (${last}); its output:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const terminate = async (signal: NodeJS.Signals) => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  /**
   * launch(), again on a new port when the one chosen here was taken in the meantime: freePort
   * only probes, and test files running in parallel start processes of their own (a service
   * then exits at once with EADDRINUSE on it).
   */
  const launchOnFreePort = async () => {
    for (let attempt = 1; ; attempt++) {
      const before = output.length;
      try {
        await launch();
        return;
      } catch (error) {
        await terminate('SIGKILL');
        const taken = !portGiven && attempt < 4 && output.slice(before).includes('EADDRINUSE') && output.slice(before).includes(`:${port}`);
        if (!taken) throw error;
        port = await nextPort();
      }
    }
  };

  // Not ready in time (or exited): launchOnFreePort leaves no process running to outlive the test run.
  await launchOnFreePort();
  return {
    name: options.service,
    get port() {
      return port;
    },
    output: () => output,
    kill: () => terminate('SIGKILL'),
    stop: (signal = 'SIGTERM') => terminate(signal),
    restart: async () => {
      await terminate('SIGTERM');
      await launchOnFreePort();
    },
    get pid() {
      return child?.pid;
    },
  };
}

/**
 * Starts several services side by side (each as startServiceProcess). If one cannot start,
 * the others are stopped before the error is thrown, so no process outlives a failed set-up.
 */
export async function startServiceProcesses(list: readonly ServiceProcessOptions[]): Promise<ServiceProcess[]> {
  const settled = await Promise.allSettled(list.map((options) => startServiceProcess(options)));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled(settled.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw failed.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<ServiceProcess>).value);
}

/**
 * A service process connects to the test server as its own bus identity (its seed file of
 * this run), as under `npm start`, so the permission table is in force in end-to-end tests.
 * Processes that are not services keep the environment's identity (admin).
 */
function serviceIdentityEnv(options: ServiceProcessOptions): Record<string, string> {
  if (options.env.NATS_NKEY_SEED_FILE !== undefined || options.env.NATS_NKEY_SEED !== undefined) return {};
  const folder = options.service.includes('/') ? /services\/([^/]+)\//.exec(options.service)?.[1] : options.service;
  const identity = folder === undefined ? undefined : busIdentityOfService(folder);
  return identity ? { NATS_NKEY_SEED_FILE: testSeedFile(identity) } : {};
}

const streamsReady = new Set<string>();

/**
 * Services may not create streams (only the admin identity may: docs/security.md "Bus"), so,
 * as `npm start` does before it starts them, the streams of the process's namespace are
 * declared here as admin, with the replicas the process will ask for (libs/local-servers'
 * bootstrapBus, which npm start uses). A server that cannot be reached within 10 s is left
 * to the service to report.
 */
async function ensureStreams(env: Record<string, string>): Promise<void> {
  const servers = env.NATS_URL ?? testNatsUrl();
  const namespace = env.NATS_NAMESPACE ?? '';
  const key = `${servers}|${namespace}`;
  if (streamsReady.has(key)) return;
  const bootstrap = bootstrapBus({ servers: servers.split(','), adminSeed: testSeed('admin'), namespace, replicas: Number(env.NATS_STREAM_REPLICAS ?? 1) });
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([bootstrap.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 10_000)))]).catch(() => false);
  clearTimeout(timer);
  if (done) streamsReady.add(key);
  else void bootstrap.catch(() => undefined);
}
