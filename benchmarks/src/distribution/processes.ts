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
import { freePort } from '@fairlead/local-servers';
import { processCpuMs, procStatFields } from '@fairlead/testing/perf';

/** The distribution services: always measured. */
export const SERVICES = ['relay', 'rotation', 'billing', 'fairness', 'intake'] as const;
/** The rest of `npm start`, added with BENCH_WITH (e.g. `operator-api,notification`). */
export const OPTIONAL_SERVICES = ['operator-api', 'notification', 'ticket-workflow'] as const;
export type ServiceName = (typeof SERVICES)[number] | (typeof OPTIONAL_SERVICES)[number];
/**
 * What BENCH_WITH means when unset: the rest of the lead path `npm start` runs (the operator
 * API's read models, an email per assignment) — the set issue 12's goals are about.
 * ticket-workflow only reads the log past the lead events; add it with BENCH_WITH=all.
 */
export const DEFAULT_WITH = 'operator-api,notification';

/**
 * The services to run: the five distribution services, plus those BENCH_WITH names
 * (default DEFAULT_WITH; `none` for the five alone, `all` for every optional one;
 * unknown names are refused).
 */
export function servicesToRun(withList: string | undefined): ServiceName[] {
  const given = (withList ?? DEFAULT_WITH).trim();
  const extra = (given === 'all' ? OPTIONAL_SERVICES.join(',') : given === 'none' ? '' : given)
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
  /** The process: `fairness`, or `fairness-2` for a second replica. */
  instance: string;
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
  /** Processes per service (BENCH_REPLICAS; default 1). */
  replicas?: number;
  /** Services run under `--cpu-prof`, writing into `<profileDir>/<instance>/`. */
  profile?: readonly ServiceName[];
  profileDir?: string;
}

export async function startServices(options: StartServicesOptions): Promise<RunningService[]> {
  const replicas = options.replicas ?? 1;
  const plan = Array.from({ length: replicas }, (_, r) => (options.services ?? SERVICES).map((name) => ({ name, instance: r === 0 ? name : `${name}-${r + 1}` }))).flat();
  const started = await Promise.allSettled(plan.map(({ name, instance }) => startOne(name, instance, options)));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw failed.reason;
  }
  return started.map((s) => (s as PromiseFulfilledResult<RunningService>).value);
}

async function startOne(name: ServiceName, instance: string, options: StartServicesOptions): Promise<RunningService> {
  const port = await freePort();
  // BENCH_LOG_DIR keeps the services' logs (else they go with the run's temporary directory).
  const logFile = join(process.env.BENCH_LOG_DIR ?? options.workDir, `${instance}.log`);
  const log = createWriteStream(logFile);
  const nodeArgs: string[] = [];
  if (options.profile?.includes(name) && options.profileDir) {
    const dir = join(options.profileDir, instance);
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
  // Generous: a loaded machine starts a service in minutes, not seconds (seven processes compiling at once
  // on a shared 2-core machine took more than 3 minutes).
  const readyWithinMs = Number(process.env.BENCH_READY_TIMEOUT_MS ?? 600_000);
  const deadline = Date.now() + readyWithinMs;
  let last = 'not listening yet';
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`${instance} exited with ${child.exitCode} before it was ready:\n${await tail(logFile)}`);
    }
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      async (res) => {
        last = `/readyz answered ${res.status} ${(await res.text()).slice(0, 300)}`;
        return res.status === 200;
      },
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${instance} was not ready within ${readyWithinMs / 1000} s (${last}; BENCH_READY_TIMEOUT_MS waits longer):\n${await tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name, instance, port, pid: child.pid!, logFile, stop };
}

export async function tail(file: string, lines = 30): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * CPU seconds (user + system, all threads) of one process, from /proc/<pid>/stat;
 * `reaped` adds what its exited children spent (cutime + cstime); 0 when it cannot be read.
 */
export async function cpuSeconds(pid: number, reaped = false): Promise<number> {
  return ((await processCpuMs(pid, { reaped })) ?? 0) / 1000;
}

/** Pids of the processes whose parent is `parent` (PostgreSQL's backends). */
export async function childrenOf(parent: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = await procStatFields(entry);
    // ppid: field 4.
    if (fields && Number(fields[1]) === parent) pids.push(Number(entry));
  }
  return pids;
}

/**
 * CPU seconds so far of each child of `parent`, by pid, with what the child is: PostgreSQL
 * titles its backends `postgres: <role> <database> …` and its helpers `postgres: walwriter`,
 * `postgres: autovacuum worker` and so on.
 */
export async function childrenCpu(parent: number): Promise<Map<number, { label: string; seconds: number }>> {
  const out = new Map<number, { label: string; seconds: number }>();
  for (const pid of await childrenOf(parent)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const title = cmdline.replace(/\0+$/, '').replace(/\0/g, ' ').replace(/^postgres:\s*/, '');
    const words = title.split(/\s+/);
    const label = words[0]?.startsWith('fairlead_') || words[1] === 'fairlead' ? words[0]!.replace(/^fairlead_/, '') : words.slice(0, 2).join(' ');
    out.set(pid, { label: label || '?', seconds: await cpuSeconds(pid) });
  }
  return out;
}

/** What each kind of child spent between two `childrenCpu` samples; children gone meanwhile are not seen (`exited` is their part of the total). */
export function childrenCpuDelta(
  before: Map<number, { label: string; seconds: number }>,
  after: Map<number, { label: string; seconds: number }>,
  treeTotal: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  let seen = 0;
  for (const [pid, a] of after) {
    const spent = a.seconds - (before.get(pid)?.seconds ?? 0);
    out[a.label] = (out[a.label] ?? 0) + spent;
    seen += spent;
  }
  out['postmaster and exited'] = Math.max(0, treeTotal - seen);
  return out;
}

/** Context switches so far: voluntary (the process waited: a wake-up each) and involuntary (preempted). */
export interface Switches {
  voluntary: number;
  involuntary: number;
}

/** Context switches of one process, summed over its threads (/proc/<pid>/task/<tid>/status); zero when gone. */
export async function processSwitches(pid: number): Promise<Switches> {
  const out: Switches = { voluntary: 0, involuntary: 0 };
  const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const tid of tids) {
    const status = await readFile(`/proc/${pid}/task/${tid}/status`, 'utf8').catch(() => '');
    out.voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    out.involuntary += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return out;
}

/**
 * Context switches so far per named source (a tree: its children alive now, so the difference of
 * two samples leaves out children that exited between them — PostgreSQL's backends are pooled).
 */
export async function sampleSwitches(sources: Record<string, CpuSource>): Promise<Record<string, Switches>> {
  const out: Record<string, Switches> = {};
  for (const [name, source] of Object.entries(sources)) {
    const pids = 'pid' in source ? [source.pid] : await childrenOf(source.tree);
    const sum: Switches = { voluntary: 0, involuntary: 0 };
    for (const pid of pids) {
      const s = await processSwitches(pid);
      sum.voluntary += s.voluntary;
      sum.involuntary += s.involuntary;
    }
    out[name] = sum;
  }
  return out;
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
