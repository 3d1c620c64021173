/**
 * The supervisor of `npm start` with real child processes: it keeps restarting a process
 * that keeps failing (and stays alive for it), says why each exit happened, stops its
 * children when asked, runs them out of the terminal's reach, and finds the children a
 * killed supervisor left behind.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { problemIn, stopLeftoverChildren, Supervisor } from './supervisor';

const here = dirname(fileURLToPath(import.meta.url));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const processGroup = async (pid: number) => Number((await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')[2]);
const LONG_RUNNING = ['-e', "process.on('SIGTERM', () => { console.log('bye'); process.exit(0); }); setInterval(() => {}, 1000); console.log('up');"];

describe('Supervisor', () => {
  it('keeps restarting a process that fails at once, saying why, and stays alive only for that', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', resolve(here, 'fixtures', 'supervise-failing.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    // Five exits in a row: with restarts that do not hold the process open it would be gone after the first.
    await expect.poll(() => output.match(/restarting in/g)?.length ?? 0, { timeout: 60_000, interval: 100 }).toBeGreaterThanOrEqual(5);
    expect(proc.exitCode).toBeNull();
    expect(output).toContain('failing         | exited (code 1): Error: connect ECONNREFUSED 127.0.0.1:1; restarting in 100 ms');
    // The delay grows with every quick exit, up to its cap.
    expect(output).toContain('restarting in 400 ms');
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('runs children in sessions of their own and stops them with SIGTERM, without restarting them', async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor({ write: (l) => lines.push(l) });
    supervisor.start({ name: 'worker', command: process.execPath, args: LONG_RUNNING, env: process.env });
    await expect.poll(() => lines.some((l) => l.endsWith('| up')), { timeout: 30_000 }).toBe(true);
    const pid = supervisor.pid('worker')!;
    // Not in our process group: a terminal's Ctrl-C reaches the supervisor alone.
    expect(await processGroup(pid)).not.toBe(await processGroup(process.pid));
    await supervisor.stop();
    expect(alive(pid)).toBe(false);
    expect(lines.some((l) => l.endsWith('| bye'))).toBe(true);
    expect(lines.some((l) => l.includes('restarting'))).toBe(false);
  });

  it('finds and stops the children an earlier supervisor with the same mark left running', async () => {
    const mark = `test-${randomUUID()}`;
    const orphanage = new Supervisor({ mark, write: () => undefined });
    orphanage.start({ name: 'orphan', command: process.execPath, args: LONG_RUNNING, env: process.env });
    await expect.poll(() => orphanage.pid('orphan'), { timeout: 30_000 }).toBeDefined();
    const pid = orphanage.pid('orphan')!;
    const said: string[] = [];
    expect(await stopLeftoverChildren(mark, (l) => said.push(l))).toBe(1);
    expect(alive(pid)).toBe(false);
    expect(said.join('\n')).toContain(`(pids ${pid})`);
    await orphanage.stop();
    expect(await stopLeftoverChildren(`test-${randomUUID()}`, () => undefined)).toBe(0);
  });

  it('tells onProblem of a warning line and of an exit (npm start then probes readiness at once), not of ordinary lines', async () => {
    const told: string[] = [];
    const lines: string[] = [];
    const supervisor = new Supervisor({ write: (l) => lines.push(l), onProblem: (name) => told.push(name), minDelayMs: 60_000 });
    const script = `console.log(JSON.stringify({ level: 'info', msg: 'up' })); console.log(JSON.stringify({ level: 'warn', msg: 'database away' })); setTimeout(() => process.exit(3), 50);`;
    supervisor.start({ name: 'worker', command: process.execPath, args: ['-e', script], env: process.env });
    await expect.poll(() => lines.some((l) => l.includes('exited (code 3)')), { timeout: 30_000 }).toBe(true);
    expect(told).toEqual(['worker', 'worker']);
    await supervisor.stop();
  });

  it('reads the reason of an exit from a JSON log line or an uncaught error', () => {
    expect(problemIn(JSON.stringify({ level: 'error', msg: 'relay failed; exiting', err: { message: 'connection terminated' } }))).toBe('relay failed; exiting (connection terminated)');
    expect(problemIn(JSON.stringify({ level: 'info', msg: 'relay ready' }))).toBeUndefined();
    expect(problemIn('TimeoutError: timeout')).toBe('TimeoutError: timeout');
    expect(problemIn('    at Object.<anonymous> (/x.js:1:1)')).toBeUndefined();
  });
});
