/**
 * The five distribution services as real processes, started the way `npm start` does
 * (`node --import tsx services/<name>/src/main.ts` with DATABASE_URL, NATS_URL,
 * HTTP_PORT, LOG_LEVEL), optionally under `--cpu-prof`; and CPU time per process read
 * from /proc, so the report can say which process spent the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { freePort } from '@fairlead/infra';

/** The services: what `bench:distribution` measures by default. */
export const SERVICES = ['relay', 'rotation', 'billing', 'fairness', 'intake'] as const;
/** The rest of `npm start`, added with BENCH_WITH (e.g. `operator-api,notification`). */
export const OPTIONAL_SERVICES = ['operator-api', 'notification'] as const;
export type ServiceName = (typeof SERVICES)[number] | (typeof OPTIONAL_SERVICES)[number];

/** The services to run: the five, plus those BENCH_WITH names (unknown names are refused). */
export function servicesToRun(withList: string | undefined): ServiceName[] {
  const extra = (withList ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of extra) {
    if (!(OPTIONAL_SERVICES as readonly string[]).includes(name)) throw new Error(`BENCH_WITH: unknown service ${name} (choose from ${OPTIONAL_SERVICES.join(', ')})`);
  }
  return [...SERVICES, ...(extra as ServiceName[])];
}

export interface RunningService {
  name: ServiceName;
  port: number;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export interface StartServicesOptions {
  repoRoot: string;
  workDir: string;
  env: Record<string, string>;
  /** Extra environment per service. */
  perService?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Which services (default: SERVICES). */
  services?: readonly ServiceName[];
  /** Services run under `--cpu-prof`, writing into `<profileDir>/<service>/`. */
  profile?: readonly ServiceName[];
  profileDir?: string;
}

export async function startServices(options: StartServicesOptions): Promise<RunningService[]> {
  const started = await Promise.allSettled((options.services ?? SERVICES).map((name) => startOne(name, options)));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw failed.reason;
  }
  return started.map((s) => (s as PromiseFulfilledResult<RunningService>).value);
}

async function startOne(name: ServiceName, options: StartServicesOptions): Promise<RunningService> {
  const port = await freePort();
  const logFile = join(options.workDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const nodeArgs: string[] = [];
  if (options.profile?.includes(name) && options.profileDir) {
    const dir = join(options.profileDir, name);
    await mkdir(dir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', resolve(options.repoRoot, 'services', name, 'src', 'main.ts')], {
    cwd: options.repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env, ...options.perService?.[name], HTTP_PORT: String(port), SERVICE_NAME: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`${name} exited with ${child.exitCode} before it was ready:\n${await tail(logFile)}`);
    }
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} was not ready within 60 s:\n${await tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name, port, pid: child.pid!, logFile, stop };
}

export async function tail(file: string, lines = 30): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * CPU seconds (user + system, all threads) of one process, from /proc/<pid>/stat;
 * `reaped` adds what its exited children spent (cutime + cstime).
 */
export async function cpuSeconds(pid: number, reaped = false): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return 0;
  // Fields after the command name (which may hold spaces) start at ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime, cstime are fields 14-17 of the whole line: 12-15 after the name.
  const own = Number(fields[11]) + Number(fields[12]);
  return (reaped ? own + Number(fields[13]) + Number(fields[14]) : own) / 100;
}

/** Pids of the processes whose parent is `parent` (PostgreSQL's backends). */
export async function childrenOf(parent: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === parent) pids.push(Number(entry));
  }
  return pids;
}

/** The pid of a process whose command line contains `marker` (our nats-server). */
export async function pidByCommandLine(marker: string): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker) && cmdline.includes('nats-server')) return Number(entry);
  }
  return undefined;
}

/** What to count: one pid, or a parent with every child it has now or had (PostgreSQL). */
export type CpuSource = { pid: number } | { tree: number };

/** CPU seconds so far per named source; the difference of two samples is what a phase spent. */
export async function sampleCpu(sources: Record<string, CpuSource>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, source] of Object.entries(sources)) {
    if ('pid' in source) {
      out[name] = await cpuSeconds(source.pid);
      continue;
    }
    let sum = await cpuSeconds(source.tree, true);
    for (const child of await childrenOf(source.tree)) sum += await cpuSeconds(child);
    out[name] = sum;
  }
  return out;
}
