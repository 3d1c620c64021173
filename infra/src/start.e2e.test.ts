/**
 * `npm start` as its user runs it (the same entry, `node --import tsx infra/src/start.ts`),
 * in a data directory and on ports of its own: it says when the system is ready, brings a
 * killed nats-server and a killed PostgreSQL back, stops cleanly on Ctrl-C (SIGINT), and
 * waits — saying for what — when the servers it is pointed at are down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, connect as tcpConnect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { freePort } from '@fairlead/local-servers';
import { probeReadiness } from './readiness';
import { discoverServices } from './services';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

interface Started {
  proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  waitFor(text: string | RegExp, timeoutMs: number): Promise<void>;
}

function startSystem(env: Record<string, string>): Started {
  const { DATABASE_URL: _d, NATS_URL: _n, ...inherited } = process.env;
  const proc = spawn(process.execPath, ['--import', 'tsx', resolve(repoRoot, 'infra/src/start.ts')], {
    cwd: repoRoot,
    env: { ...inherited, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await exited;
    }
  });
  return {
    proc,
    output: () => output,
    exited,
    waitFor: async (text, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      const found = () => (typeof text === 'string' ? output.includes(text) : text.test(output));
      while (!found()) {
        if (proc.exitCode !== null) throw new Error(`npm start exited (${proc.exitCode}) before saying ${text}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`npm start did not say ${text} within ${timeoutMs} ms:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

/** `count` consecutive free loopback ports (the services' ports follow their base). */
async function freePortRun(count: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const taken = await Promise.all(Array.from({ length: count }, (_, i) => isTaken(base + i)));
    if (!taken.some(Boolean)) return base;
  }
}

function isTaken(port: number): Promise<boolean> {
  return new Promise((r) => {
    const server = createServer();
    server.once('error', () => r(true));
    server.listen(port, '127.0.0.1', () => server.close(() => r(false)));
  });
}

const pidIn = async (file: string) => Number((await readFile(file, 'utf8')).split('\n')[0]);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function allReady(portBase: number, timeoutMs: number): Promise<void> {
  const targets = discoverServices(repoRoot, { FAIRLEAD_HTTP_PORT_BASE: String(portBase) }).map((s) => `http://127.0.0.1:${s.port}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = await Promise.all(targets.map((t) => probeReadiness(t)));
    if (why.every((w) => w === undefined)) return;
    if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms: ${why.filter(Boolean).join('; ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Output after `marker`, without the lines of the services (the supervisor's own lines). */
const after = (output: string, marker: string) => output.slice(output.indexOf(marker));

describe('npm start', () => {
  it('says when it is ready, restarts a killed nats-server and PostgreSQL, and stops cleanly on Ctrl-C', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'fairlead-start-'));
    // Reachable by the postgres user, as a clone under /home or /work is.
    await chmod(dataDir, 0o755);
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const portBase = await freePortRun(8);
    const system = startSystem({
      FAIRLEAD_DATA_DIR: dataDir,
      FAIRLEAD_PG_PORT: String(await freePort()),
      FAIRLEAD_NATS_PORT: String(await freePort()),
      FAIRLEAD_HTTP_PORT_BASE: String(portBase),
    });
    await system.waitFor(/ready: all 8 services answer \/readyz \(\d+ s after start\)/, 300_000);
    expect(system.output()).toMatch(/waiting for: .*\(not listening yet/);

    const natsPid = await pidIn(join(dataDir, 'nats', 'nats-server.pid'));
    process.kill(natsPid, 'SIGKILL');
    await system.waitFor('nats-server killed by SIGKILL unexpectedly; restarting it', 30_000);
    await system.waitFor('nats-server is running again', 60_000);
    await allReady(portBase, 180_000);

    const postgresPid = await pidIn(join(dataDir, 'postgres', 'postmaster.pid'));
    process.kill(postgresPid, 'SIGKILL');
    await system.waitFor('PostgreSQL killed by SIGKILL unexpectedly; restarting it', 30_000);
    await system.waitFor('PostgreSQL is running again', 120_000);
    await allReady(portBase, 240_000);

    const servers = [await pidIn(join(dataDir, 'nats', 'nats-server.pid')), await pidIn(join(dataDir, 'postgres', 'postmaster.pid'))];
    system.proc.kill('SIGINT');
    expect(await system.exited).toBe(0);
    const stop = after(system.output(), 'SIGINT: stopping services…');
    expect(stop).toMatch(/SIGINT: stopping services…[\s\S]*stopping the local servers…[\s\S]*fairlead {9}\| stopped\n$/);
    expect(stop).not.toMatch(/Unhandled 'error' event|administrator command|^\S+\s+\|\s+at /m);
    // Nothing is left running: the servers and every service process are gone.
    expect(servers.filter(alive)).toEqual([]);
    expect(await processesMarked(dataDir)).toEqual([]);
  }, 900_000);

  it('waits for servers that are down, says which, and starts the services once they answer', async () => {
    // The test run's servers, reached through forwarders that start later: the servers "come up".
    const server = new URL(inject('databaseUrl'));
    const name = `start_wait_${randomBytes(6).toString('hex')}`;
    await admin(server.toString(), `create database ${name}`);
    cleanups.push(() => admin(server.toString(), `drop database if exists ${name} with (force)`));
    const pgPort = await freePort();
    const natsPort = await freePort();
    const pointed = new URL(server);
    pointed.port = String(pgPort);
    pointed.pathname = `/${name}`;
    const system = startSystem({
      DATABASE_URL: pointed.toString(),
      NATS_URL: `nats://127.0.0.1:${natsPort}`,
      NATS_NAMESPACE: `start_${randomBytes(4).toString('hex')}`,
      FAIRLEAD_DATA_DIR: await mkdtemp(join(tmpdir(), 'fairlead-start-wait-')),
      FAIRLEAD_HTTP_PORT_BASE: String(await freePortRun(8)),
    });
    await system.waitFor(`waiting for PostgreSQL at 127.0.0.1:${pgPort} (`, 120_000);
    expect(system.output()).toContain('services start when it answers');
    // Down for a while: it does not give up (an earlier version exited 0 after about 48 s).
    const proxies: Server[] = [];
    cleanups.push(async () => Promise.all(proxies.map((p) => new Promise((r) => p.close(r)))));
    proxies.push(await proxy(pgPort, server.hostname, Number(server.port)));
    await system.waitFor(`PostgreSQL at 127.0.0.1:${pgPort} answers`, 60_000);
    await system.waitFor(`waiting for NATS at 127.0.0.1:${natsPort} (`, 60_000);
    expect(system.proc.exitCode).toBeNull();
    const nats = new URL(inject('natsUrl'));
    proxies.push(await proxy(natsPort, nats.hostname, Number(nats.port)));
    await system.waitFor(`NATS at 127.0.0.1:${natsPort} answers`, 60_000);
    await system.waitFor('Ctrl-C stops everything.', 30_000);
    system.proc.kill('SIGINT');
    expect(await system.exited).toBe(0);
    expect(system.output()).toMatch(/fairlead {9}\| stopped\n$/);
  }, 600_000);
});

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Names built from [a-z0-9_] only; a database name cannot be a bound parameter.
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A TCP forwarder on `port` to host:target: the server "comes up" when it starts. */
function proxy(port: number, host: string, target: number): Promise<Server> {
  const server = createServer((socket) => {
    const upstream = tcpConnect({ host, port: target });
    socket.pipe(upstream).pipe(socket);
    const close = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', close);
    upstream.on('error', close);
  });
  return new Promise((resolveListening, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolveListening(server));
  });
}

/** Processes started by a supervisor of this data directory (see Supervisor's mark). */
async function processesMarked(mark: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(`FAIRLEAD_SUPERVISED_BY=${mark}`)) found.push(Number(entry));
  }
  return found;
}
