import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

export interface SupervisedProcess {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface SupervisorOptions {
  /** Where prefixed output lines go (stdout by default). */
  write?: (line: string) => void;
  /** First restart delay; doubled per quick exit up to maxDelayMs (default 500 ms → 30 s). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** A process that ran this long before it exited gets the first delay again (default 30 s). */
  stableAfterMs?: number;
  /**
   * Marks every child's environment (FAIRLEAD_SUPERVISED_BY=<mark>), so that a later
   * supervisor with the same mark can stop children a killed supervisor left behind.
   */
  mark?: string;
  /** Called when a child reports a problem (a warning or error line) or exits: `npm start` then probes readiness at once. */
  onProblem?: (name: string) => void;
}

const COLORS = [36, 33, 35, 32, 34, 91, 92, 93, 94, 95];
export const SUPERVISED_BY = 'FAIRLEAD_SUPERVISED_BY';

/**
 * Runs child processes, prefixes their output with their name, and restarts one that
 * exits unexpectedly, with a growing delay and the reason it gave, for as long as it takes
 * (the pending restart keeps this process alive) until stop() is called. Each child runs
 * in a session of its own: a terminal's Ctrl-C reaches only the supervisor, which then
 * stops the children itself, once and in order.
 */
export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly problems = new Map<string, string>();
  private stopping = false;
  private readonly write: (line: string) => void;

  constructor(private readonly options: SupervisorOptions = {}) {
    this.write = options.write ?? ((l) => process.stdout.write(`${l}\n`));
  }

  /** The last problem a child reported (a warning or error line), by name. */
  lastProblem(name: string): string | undefined {
    return this.problems.get(name);
  }

  /** The pid of a running child, by name. */
  pid(name: string): number | undefined {
    return this.children.get(name)?.pid;
  }

  start(proc: SupervisedProcess, restarts = 0): void {
    if (this.stopping) return;
    this.timers.delete(proc.name);
    const tag = this.tag(proc.name);
    const env = this.options.mark ? { ...proc.env, [SUPERVISED_BY]: this.options.mark } : proc.env;
    const child = spawn(proc.command, proc.args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.children.set(proc.name, child);
    let lastProblem: string | undefined;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        const problem = problemIn(line);
        if (problem) {
          lastProblem = problem;
          this.problems.set(proc.name, problem);
          this.options.onProblem?.(proc.name);
        }
        this.write(`${tag}| ${line}`);
      });
    }
    child.on('error', (error) => this.write(`${tag}| could not start: ${error.message}`));
    const startedAt = Date.now();
    child.on('exit', (code, signal) => {
      if (this.children.get(proc.name) === child) this.children.delete(proc.name);
      if (this.stopping) return;
      // A process that ran for a while earns a fresh restart budget.
      const attempt = Date.now() - startedAt > (this.options.stableAfterMs ?? 30_000) ? 0 : restarts + 1;
      const delay = Math.min(this.options.maxDelayMs ?? 30_000, (this.options.minDelayMs ?? 500) * 2 ** Math.max(0, attempt - 1));
      const why = lastProblem ? `: ${lastProblem}` : '';
      this.write(`${tag}| exited (${signal ?? `code ${code}`})${why}; restarting in ${formatDelay(delay)}`);
      this.options.onProblem?.(proc.name);
      // Not unref()'d: a pending restart is what the supervisor is alive for.
      this.timers.set(
        proc.name,
        setTimeout(() => this.start(proc, attempt), delay),
      );
    });
  }

  /** SIGTERM to every child (SIGKILL after timeoutMs); pending restarts are cancelled. */
  async stop(timeoutMs = 15_000): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.children.values()].map((child) => terminate(child, timeoutMs)));
  }

  private tag(name: string): string {
    const color = COLORS[[...name].reduce((a, c) => a + c.charCodeAt(0), 0) % COLORS.length];
    return process.stdout.isTTY ? `\x1b[${color}m${name.padEnd(16)}\x1b[0m` : name.padEnd(16);
  }
}

function terminate(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function formatDelay(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${ms / 1_000} s`;
}

/**
 * The reason a line gives, when it reports a problem: a pino JSON line at warn or above
 * (its message and error message), or an uncaught error's first line (`Error: …`).
 */
export function problemIn(line: string): string | undefined {
  const text = line.trim();
  if (text.startsWith('{')) {
    try {
      const entry = JSON.parse(text) as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
      if (!['warn', 'error', 'fatal'].includes(String(entry.level))) return undefined;
      const detail = typeof entry.err?.message === 'string' ? ` (${entry.err.message})` : '';
      return `${String(entry.msg ?? '')}${detail}`.slice(0, 300);
    } catch {
      return undefined;
    }
  }
  return /^[A-Za-z]*Error\b.*:/.test(text) ? text.slice(0, 300) : undefined;
}

/**
 * Children of an earlier supervisor with this mark that outlived it (it was killed with
 * SIGKILL and could not stop them): stopped with SIGTERM, then SIGKILL. Linux only (/proc);
 * elsewhere nothing is found.
 */
export async function stopLeftoverChildren(mark: string, log: (line: string) => void): Promise<number> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(`${SUPERVISED_BY}=${mark}`)) found.push(Number(entry));
  }
  if (found.length === 0) return 0;
  log(`${found.length} process${found.length === 1 ? '' : 'es'} of an earlier run still running (pids ${found.join(', ')}); stopping them`);
  const signal = (pid: number, s: NodeJS.Signals | 0) => {
    try {
      process.kill(pid, s);
      return true;
    } catch {
      return false;
    }
  };
  for (const pid of found) signal(pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (found.some((pid) => signal(pid, 0))) {
    if (Date.now() > deadline) for (const pid of found) signal(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
  }
  return found.length;
}
