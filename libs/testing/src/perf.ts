/**
 * What the micro-benchmarks (`services/<name>/perf/*.perf.ts`) measure with, imported as
 * `@fairlead/testing/perf` (not from the package's index: nothing else loads it): the SQL
 * statements this process sends, by kind; the CPU of processes from /proc/<pid>/stat (a
 * PostgreSQL backend's, which process.cpuUsage cannot see); a V8 CPU profile of this process.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Profiler } from 'node:inspector';
import { Session } from 'node:inspector/promises';
import pg from 'pg';

/**
 * What kind of statement a query text is (its first words): `append_batch` (alone, or with
 * the caller's side rows in one statement), begin/commit/rollback, `call <function>` for a
 * `select … from schema.fn(…)` or `select fn(…)`, else the verb and its table.
 */
export function statementKind(text: string): string {
  const t = text.replace(/\s+/g, ' ').replaceAll('"', '').trim();
  if (t.includes('append_batch')) return t.startsWith('with') ? 'append_batch + side rows (one statement)' : 'append_batch';
  if (/^(begin|commit|rollback)$/i.test(t)) return t.toLowerCase();
  const call = /^select .*? from ([a-z_]+\.[a-z_]+)\(/i.exec(t) ?? /^select ([a-z_]+)\(/i.exec(t);
  if (call) return `call ${call[1]}`;
  const m = /(insert into|delete from|update|from) ([a-z_.]+)/i.exec(t);
  return `${t.split(' ')[0]!.toLowerCase()} ${m?.[2] ?? ''}`.trim();
}

export interface StatementRecorder {
  /** Counts from now (the counts start at zero). */
  start(): void;
  /** Stops counting; the counts since start(), by statementKind. */
  stop(): Map<string, number>;
  /** Puts pg.Client.prototype.query back. */
  restore(): void;
}

/**
 * Counts every statement this process's pg clients send between start() and stop(), by
 * kind: pg.Client.prototype.query is wrapped (every round trip to PostgreSQL, whichever pool).
 */
export function recordStatements(): StatementRecorder {
  const counts = new Map<string, number>();
  const original = pg.Client.prototype.query;
  let on = false;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (on) {
      const q = args[0] as string | { text?: string };
      const kind = statementKind(typeof q === 'string' ? q : (q?.text ?? ''));
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  return {
    start: () => {
      counts.clear();
      on = true;
    },
    stop: () => {
      on = false;
      return new Map(counts);
    },
    restore: () => {
      pg.Client.prototype.query = original;
    },
  };
}

/** The middle value of a micro-benchmark's rounds (the upper of the two middle ones for an even count). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Clock ticks of /proc/<pid>/stat a second (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * The fields of /proc/<pid>/stat after the command name (field 3, the state, first: field n
 * of proc(5) is index n - 3); undefined when the process is gone or /proc not readable.
 */
export async function procStatFields(pid: number | string): Promise<string[] | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // The command name may hold spaces and parentheses: the fields start after its last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU ms (user + system, all threads) one process has spent so far, from /proc/<pid>/stat;
 * `reaped` adds what its exited children it waited for spent (cutime + cstime). Undefined
 * when the process is gone or /proc not readable.
 */
export async function processCpuMs(pid: number, options: { reaped?: boolean } = {}): Promise<number | undefined> {
  const fields = await procStatFields(pid);
  if (!fields) return undefined;
  // utime, stime, cutime, cstime: fields 14-17.
  const ticks = Number(fields[11]) + Number(fields[12]) + (options.reaped ? Number(fields[13]) + Number(fields[14]) : 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/**
 * CPU ms so far of each PostgreSQL backend of `pool`'s database (pg_stat_activity; only those
 * of `applicationName` when given), by pid; a backend whose /proc entry cannot be read is
 * left out. Two readings go to backendCpuDelta.
 */
export async function backendCpuMs(pool: Pick<pg.Pool, 'query'>, options: { applicationName?: string } = {}): Promise<Map<number, number>> {
  const { rows } =
    options.applicationName === undefined
      ? await pool.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database()')
      : await pool.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and application_name = $1', [options.applicationName]);
  const ms = new Map<number, number>();
  for (const { pid } of rows) {
    const spent = await processCpuMs(pid);
    if (spent !== undefined) ms.set(pid, spent);
  }
  return ms;
}

/**
 * CPU ms the backends of the second reading spent since the first: one born in between
 * counts whole; one that ended in between is lost (keep the pools open while measuring).
 * Undefined when no backend could be read (no /proc, or another PID namespace).
 */
export function backendCpuDelta(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number | undefined {
  if (after.size === 0) return undefined;
  let sum = 0;
  for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
  return sum;
}

export interface CpuProfile {
  /** Ends the profile: writes it (JSON, for Chrome DevTools) to the file given and returns it; nothing when none was started. */
  stop(): Promise<Profiler.Profile | undefined>;
}

/**
 * A V8 CPU profile of this process (node:inspector) when `file` is given (PERF_PROFILE),
 * else nothing. `samplingIntervalUs`: V8's sampling interval (its default: 1000 µs).
 */
export async function startCpuProfile(file: string | undefined, options: { samplingIntervalUs?: number } = {}): Promise<CpuProfile> {
  if (!file) return { stop: async () => undefined };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  if (options.samplingIntervalUs !== undefined) await session.post('Profiler.setSamplingInterval', { interval: options.samplingIntervalUs });
  await session.post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
      return profile;
    },
  };
}
