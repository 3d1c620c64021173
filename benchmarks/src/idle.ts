/**
 * What a running `npm start` costs while nothing happens: CPU milliseconds per second of each
 * process (from /proc: each service, PostgreSQL's postmaster with every backend and helper,
 * exited ones included, nats-server, the supervisor), PostgreSQL commits per second, and,
 * when `pg_stat_statements` is preloaded, statements per second by role (each service logs
 * in as its own) with the most frequent ones.
 *
 *   npx tsx benchmarks/src/idle.ts [seconds=30] [data dir=.data]
 *
 * It reads the PostgreSQL port from the running postmaster's command line and logs in as
 * `postgres` with the password `npm start` generated in `<data dir>/auth/postgres/`.
 * Preload pg_stat_statements once for the statement counts (then restart `npm start`):
 * `ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import pg from 'pg';
import { processCpuMs, procStatFields } from '@fairlead/testing/perf';
import { childrenOf } from './distribution/processes';

const seconds = Number(process.argv[2] ?? 30);
const dataDir = resolve(process.argv[3] ?? '.data');

async function cmdline(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0+$/, '').replace(/\0/g, ' ');
}

/**
 * Every process of this `npm start` worth naming: pid → name. PostgreSQL is the supervisor's
 * child running `…/bin/postgres -D`: its data directory is `<data dir>/postgres` only when the
 * `postgres` user can reach the clone (else npm start puts it elsewhere and says where).
 */
async function findProcesses(): Promise<{ named: Map<number, string>; postmaster: number; pgPort: number }> {
  const named = new Map<number, string>();
  const candidates: { pid: number; cmd: string }[] = [];
  let supervisor = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const cmd = await cmdline(pid);
    const service = /services\/([a-z-]+)\/src\/main\.ts/.exec(cmd)?.[1];
    if (service && cmd.includes(resolve('services'))) named.set(pid, service);
    else if (/\/bin\/postgres -D /.test(cmd)) candidates.push({ pid, cmd });
    else if (cmd.includes('nats-server') && cmd.includes(` -sd ${resolve(dataDir, 'nats')}`)) named.set(pid, 'nats-server');
    else if (cmd.startsWith('node ') && cmd.includes('infra/src/start.ts') && (await readlink(`/proc/${pid}/cwd`).catch(() => '')) === resolve(dataDir, '..')) {
      supervisor = pid;
      named.set(pid, 'supervisor');
    }
  }
  const ppid = async (pid: number) => Number((await procStatFields(pid))?.[1]);
  let found: { pid: number; cmd: string } | undefined;
  for (const c of candidates) if (supervisor && (await ppid(c.pid)) === supervisor) found = c;
  if (!found) throw new Error(`no PostgreSQL started by an npm start in ${resolve(dataDir, '..')}: start the system first (npm start)`);
  named.set(found.pid, 'postgresql');
  return { named, postmaster: found.pid, pgPort: Number(/ -p (\d+)/.exec(found.cmd)?.[1]) };
}

/** CPU ms so far per name; PostgreSQL counts its children alive now and those it reaped. */
async function cpuByName(named: Map<number, string>, postmaster: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const add = (name: string, ms: number) => out.set(name, (out.get(name) ?? 0) + ms);
  for (const [pid, name] of named) add(name, (await processCpuMs(pid, { reaped: pid === postmaster })) ?? 0);
  for (const pid of await childrenOf(postmaster)) add('postgresql', (await processCpuMs(pid)) ?? 0);
  return out;
}

const { named, postmaster, pgPort } = await findProcesses();
const password = (await readFile(resolve(dataDir, 'auth/postgres/postgres.password'), 'utf8')).trim();
const pool = new pg.Pool({ host: '127.0.0.1', port: pgPort, user: 'postgres', password, database: 'fairlead', max: 1, application_name: 'idle-sampler' });
const statements = await pool
  .query('create extension if not exists pg_stat_statements')
  .then(() => pool.query('select pg_stat_statements_reset()'))
  .then(
    () => true,
    () => false,
  );
const commits = async () => {
  await pool.query('select pg_stat_clear_snapshot()');
  const { rows } = await pool.query<{ c: string }>(`select xact_commit::text as c from pg_stat_database where datname = current_database()`);
  return Number(rows[0]!.c);
};
/**
 * WAL records written and WAL fsyncs, server-wide: a read-only transaction counts as a commit
 * in pg_stat_database but writes no WAL and waits for no flush. fsyncs: pg_stat_io's `wal` rows (PostgreSQL 18).
 */
const wal = async () => {
  const records = Number((await pool.query<{ n: string }>('select wal_records::text as n from pg_stat_wal')).rows[0]!.n);
  const fsyncs = await pool
    .query<{ n: string | null }>(`select sum(fsyncs)::text as n from pg_stat_io where object = 'wal'`)
    .then((r) => (r.rows[0]!.n === null ? undefined : Number(r.rows[0]!.n)), () => undefined);
  return { records, fsyncs };
};

const wal0 = await wal();
const commits0 = await commits();
const cpu0 = await cpuByName(named, postmaster);
const t0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const cpu1 = await cpuByName(named, postmaster);
const commits1 = await commits();
const wal1 = await wal();
const elapsed = (performance.now() - t0) / 1000;

console.log(`idle for ${elapsed.toFixed(1)} s (${dataDir})`);
console.log('CPU ms per second:');
let total = 0;
for (const [name, ms] of [...cpu1].sort((a, b) => a[0].localeCompare(b[0]))) {
  const rate = (ms - (cpu0.get(name) ?? 0)) / elapsed;
  total += rate;
  console.log(`  ${name.padEnd(18)} ${rate.toFixed(2)}`);
}
console.log(`  ${'all'.padEnd(18)} ${total.toFixed(2)}`);
// The sampler's own two statements of the commit count are two of them.
const commitRate = (commits1 - commits0 - 2) / elapsed;
console.log(`PostgreSQL commits per second: ${commitRate.toFixed(2)}`);
const walRecords = (wal1.records - wal0.records) / elapsed;
const walFsyncs = wal0.fsyncs === undefined || wal1.fsyncs === undefined ? undefined : (wal1.fsyncs - wal0.fsyncs) / elapsed;
console.log(`WAL records per second: ${walRecords.toFixed(2)}${walFsyncs === undefined ? '' : `, WAL fsyncs per second: ${walFsyncs.toFixed(2)}`}`);
const result: Record<string, unknown> = {
  seconds: Number(elapsed.toFixed(1)),
  cpu_ms_per_s: Number(total.toFixed(2)),
  commits_per_s: Number(commitRate.toFixed(2)),
  wal_records_per_s: Number(walRecords.toFixed(2)),
  ...(walFsyncs === undefined ? {} : { wal_fsyncs_per_s: Number(walFsyncs.toFixed(2)) }),
};
if (statements) {
  const { rows } = await pool.query<{ role: string; calls: string; query: string }>(
    `select coalesce(r.rolname, '?') as role, s.calls::text, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 110) as query
       from pg_stat_statements s join pg_database d on d.oid = s.dbid left join pg_roles r on r.oid = s.userid
      where d.datname = current_database() and s.toplevel and coalesce(r.rolname, '') <> 'postgres' order by s.calls desc`,
  );
  const byRole = new Map<string, number>();
  for (const r of rows) byRole.set(r.role, (byRole.get(r.role) ?? 0) + Number(r.calls));
  console.log('statements per second by role:');
  for (const [role, calls] of [...byRole].sort((a, b) => b[1] - a[1])) console.log(`  ${role.padEnd(26)} ${(calls / elapsed).toFixed(2)}`);
  console.log('most frequent statements (per second, role, statement):');
  for (const r of rows.slice(0, 15)) console.log(`  ${(Number(r.calls) / elapsed).toFixed(2).padStart(6)}  ${r.role.replace(/^fairlead_/, '').padEnd(16)} ${r.query}`);
  result.statements_per_s = Number(([...byRole.values()].reduce((a, b) => a + b, 0) / elapsed).toFixed(2));
} else console.log('(pg_stat_statements is not preloaded: no statement counts)');
console.log(JSON.stringify({ bench: 'idle', ...result }));
await pool.end();
