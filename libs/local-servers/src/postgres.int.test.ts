/**
 * The local PostgreSQL of `npm start` and of test runs, started for real: durable commits
 * by default, a server that dies is reported and restarted, a server left behind by a
 * killed run is stopped, and a clone in a directory the `postgres` user cannot enter works.
 */
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './ports';
import { startEmbeddedPostgres, type RunningPostgres } from './postgres';
import { packagedBinaries } from './postgres-access';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL', () => {
  let dir: string;
  const servers: RunningPostgres[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fairlead-pg-int-'));
  });
  afterAll(async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  it('commits durably unless told otherwise', async () => {
    const durable = await startEmbeddedPostgres({ dataDir: join(dir, 'durable'), port: await freePort(), persistent: false });
    servers.push(durable);
    expect(await query(durable.url, 'show synchronous_commit')).toEqual([{ synchronous_commit: 'on' }]);
    const fast = await startEmbeddedPostgres({ dataDir: join(dir, 'fast'), port: await freePort(), persistent: false, synchronousCommit: 'off' });
    servers.push(fast);
    expect(await query(fast.url, 'show synchronous_commit')).toEqual([{ synchronous_commit: 'off' }]);
  });

  it('reports a server killed from outside, and restarts it with its data', async () => {
    const exits: string[] = [];
    const server = await startEmbeddedPostgres({ dataDir: join(dir, 'crash'), port: await freePort(), persistent: false, onUnexpectedExit: (d) => exits.push(d) });
    servers.push(server);
    await query(server.url, 'create table kept (x int); insert into kept values (42)');
    process.kill(server.pid()!, 'SIGKILL');
    await expect.poll(() => exits, { timeout: 10_000 }).toEqual(['killed by SIGKILL']);
    await expect(query(server.url, 'select 1')).rejects.toThrow();
    await server.restart();
    expect(await query(server.url, 'select x from kept')).toEqual([{ x: 42 }]);
    // A stop asked for is not reported as a crash.
    await server.stop();
    expect(exits).toHaveLength(1);
  });

  it('stops a server that an earlier, killed run left on the same data directory', async () => {
    const dataDir = join(dir, 'leftover');
    const exits: string[] = [];
    const port = await freePort();
    const first = await startEmbeddedPostgres({ dataDir, port, persistent: true, onUnexpectedExit: (d) => exits.push(d) });
    servers.push(first);
    const firstPid = first.pid();
    const lines: string[] = [];
    const second = await startEmbeddedPostgres({ dataDir, port, persistent: false, onNotice: (l) => lines.push(l) });
    servers.push(second);
    expect(lines.join('\n')).toContain(`still serves ${first.dataDir} (pid ${firstPid})`);
    expect(exits).toHaveLength(1);
    expect(second.pid()).not.toBe(firstPid);
    expect(await query(second.url, 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('gives the superuser a generated password (a 0600 file, one per data directory), and replaces the old constant of an existing cluster', async () => {
    const [a, b] = [join(dir, 'pw-a', 'postgres'), join(dir, 'pw-b', 'postgres')];
    const first = await startEmbeddedPostgres({ dataDir: a, port: await freePort(), persistent: true });
    servers.push(first);
    const other = await startEmbeddedPostgres({ dataDir: b, port: await freePort(), persistent: false });
    servers.push(other);
    expect(first.passwordFile).toBe(join(dir, 'pw-a', 'auth', 'postgres', 'postgres.password'));
    expect((await stat(first.passwordFile)).mode & 0o777).toBe(0o600);
    const password = (await readFile(first.passwordFile, 'utf8')).trim();
    expect(password).not.toBe((await readFile(other.passwordFile, 'utf8')).trim());
    expect(decodeURIComponent(new URL(first.url).password)).toBe(password);
    const wrong = new URL(first.url);
    wrong.password = 'fairlead-local';
    await expect(query(wrong.toString(), 'select 1')).rejects.toMatchObject({ code: '28P01' });
    // A cluster of an earlier version: the superuser's password was the constant, and no file.
    await query(first.url, "alter role postgres password 'fairlead-local'");
    await first.stop();
    await rm(first.passwordFile);
    const notices: string[] = [];
    const again = await startEmbeddedPostgres({ dataDir: a, port: await freePort(), persistent: false, onNotice: (l) => notices.push(l) });
    servers.push(again);
    expect(notices.join('\n')).toContain('has a generated password now');
    const renewed = (await readFile(again.passwordFile, 'utf8')).trim();
    expect(renewed).not.toBe(password);
    expect(await query(again.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    const old = new URL(again.url);
    old.password = 'fairlead-local';
    await expect(query(old.toString(), 'select 1')).rejects.toMatchObject({ code: '28P01' });
  });

  it.skipIf(!isRoot)('starts from a clone inside a directory only root can enter (mode 0700)', async () => {
    // A clone under /root or in `mktemp -d`: binaries and data both inside a 0700 directory.
    const clone = await mkdtemp(join(tmpdir(), 'fairlead-private-clone-'));
    try {
      expect((await stat(clone)).mode & 0o777).toBe(0o700);
      const binariesDir = join(clone, 'node_modules', 'native');
      await cp(await packagedBinaries(), binariesDir, { recursive: true, verbatimSymlinks: true });
      const requested = join(clone, '.data', 'postgres');
      const lines: string[] = [];
      const server = await startEmbeddedPostgres({ dataDir: requested, port: await freePort(), persistent: false, binariesDir, onNotice: (l) => lines.push(l) });
      servers.push(server);
      expect(await query(server.url, 'select 1 as one')).toEqual([{ one: 1 }]);
      // The data went where the postgres user can reach it, and the start said where.
      expect(server.dataDir.startsWith('/var/tmp/fairlead-')).toBe(true);
      expect(await query<{ data_directory: string }>(server.url, 'show data_directory')).toEqual([{ data_directory: server.dataDir }]);
      expect(lines.join('\n')).toContain(`PostgreSQL keeps its data in ${server.dataDir}`);
      await server.stop();
      await expect(stat(server.dataDir)).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(clone, { recursive: true, force: true });
    }
  });
});
