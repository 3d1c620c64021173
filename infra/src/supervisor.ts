import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SupervisedProcess {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

const COLORS = [36, 33, 35, 32, 34, 91, 92, 93, 94, 95];

/**
 * Runs child processes, prefixes their output with their name, and restarts one that
 * exits unexpectedly (with a growing delay), until stop() is called.
 */
export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;

  constructor(private readonly write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {}

  start(proc: SupervisedProcess, restarts = 0): void {
    if (this.stopping) return;
    const color = COLORS[[...proc.name].reduce((a, c) => a + c.charCodeAt(0), 0) % COLORS.length];
    const tag = process.stdout.isTTY ? `\x1b[${color}m${proc.name.padEnd(16)}\x1b[0m` : proc.name.padEnd(16);
    const child = spawn(proc.command, proc.args, { env: proc.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.set(proc.name, child);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => this.write(`${tag}| ${line}`));
    }
    const startedAt = Date.now();
    child.on('exit', (code, signal) => {
      this.children.delete(proc.name);
      if (this.stopping) return;
      // A process that ran for a while earns a fresh restart budget.
      const attempt = Date.now() - startedAt > 30_000 ? 0 : restarts + 1;
      const delay = Math.min(30_000, 500 * 2 ** attempt);
      this.write(`${tag}| exited (${signal ?? code}); restarting in ${delay} ms`);
      setTimeout(() => this.start(proc, attempt), delay).unref();
    });
  }

  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    const exits = [...this.children.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), timeoutMs).unref();
        }),
    );
    await Promise.all(exits);
  }
}
