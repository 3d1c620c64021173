/**
 * PostgreSQL's side of a phase: transactions and rows (pg_stat_database), the statements
 * that took the time (pg_stat_statements, when preloaded), and what the backends were
 * doing, sampled from pg_stat_activity (on CPU, waiting on a lock, idle in a transaction
 * waiting for its client…).
 */
import type pg from 'pg';

export interface DatabaseCounters {
  xact_commit: number;
  xact_rollback: number;
  tup_inserted: number;
  tup_updated: number;
  tup_fetched: number;
}

export async function databaseCounters(pool: pg.Pool): Promise<DatabaseCounters> {
  // The statistics snapshot is cached per transaction; clear it to read the current numbers.
  await pool.query('select pg_stat_clear_snapshot()');
  const { rows } = await pool.query<Record<keyof DatabaseCounters, string>>(
    `select xact_commit, xact_rollback, tup_inserted, tup_updated, tup_fetched from pg_stat_database where datname = current_database()`,
  );
  const r = rows[0]!;
  return { xact_commit: Number(r.xact_commit), xact_rollback: Number(r.xact_rollback), tup_inserted: Number(r.tup_inserted), tup_updated: Number(r.tup_updated), tup_fetched: Number(r.tup_fetched) };
}

export function counterDelta(before: DatabaseCounters, after: DatabaseCounters): DatabaseCounters {
  const out = {} as DatabaseCounters;
  for (const key of Object.keys(before) as (keyof DatabaseCounters)[]) out[key] = after[key] - before[key];
  return out;
}

/** True when pg_stat_statements can be read (the extension is created here if the library is preloaded). */
export async function enableStatements(pool: pg.Pool): Promise<boolean> {
  try {
    await pool.query('create extension if not exists pg_stat_statements');
    await pool.query('select pg_stat_statements_reset()');
    return true;
  } catch {
    return false;
  }
}

export async function resetStatements(pool: pg.Pool): Promise<void> {
  await pool.query('select pg_stat_statements_reset()');
}

export interface StatementRow {
  query: string;
  /** The database role that ran it (each service has its own). */
  role: string;
  calls: number;
  total_ms: number;
  mean_ms: number;
  /** Planning time per call (track_planning). */
  plan_ms: number;
  rows_per_call: number;
  blocks_per_call: number;
}

/** One role's share of the statements: which service asked PostgreSQL for the work. */
export interface RoleStatements {
  role: string;
  calls: number;
  exec_ms: number;
  plan_ms: number;
}

/** The statements of this database by total execution time (server side, excluding planning, network and client). */
export async function topStatements(
  pool: pg.Pool,
  limit: number,
): Promise<{ rows: StatementRow[]; byCalls: StatementRow[]; byRole: RoleStatements[]; totalMs: number; totalPlanMs: number; totalCalls: number }> {
  const { rows } = await pool.query<{ query: string; role: string | null; calls: string; total_ms: number; mean_ms: number; plan_ms: number; rows: string; blocks: string }>(
    `select regexp_replace(s.query, '\\s+', ' ', 'g') as query, r.rolname as role, s.calls, s.total_exec_time as total_ms, s.mean_exec_time as mean_ms,
            s.total_plan_time / greatest(s.calls, 1) as plan_ms, s.rows, s.shared_blks_hit + s.shared_blks_read as blocks
       from pg_stat_statements s join pg_database d on d.oid = s.dbid left join pg_roles r on r.oid = s.userid
      where d.datname = current_database() and s.toplevel
      order by s.total_exec_time desc`,
  );
  const all = rows.map((r) => ({
    query: r.query,
    role: r.role ?? '?',
    calls: Number(r.calls),
    total_ms: r.total_ms,
    mean_ms: r.mean_ms,
    plan_ms: r.plan_ms,
    rows_per_call: Number(r.rows) / Math.max(1, Number(r.calls)),
    blocks_per_call: Number(r.blocks) / Math.max(1, Number(r.calls)),
  }));
  const roles = new Map<string, RoleStatements>();
  for (const r of all) {
    const role = roles.get(r.role) ?? { role: r.role, calls: 0, exec_ms: 0, plan_ms: 0 };
    role.calls += r.calls;
    role.exec_ms += r.total_ms;
    role.plan_ms += r.plan_ms * r.calls;
    roles.set(r.role, role);
  }
  return {
    rows: all.slice(0, limit),
    byCalls: [...all].sort((a, b) => b.calls - a.calls).slice(0, limit),
    byRole: [...roles.values()].sort((a, b) => b.exec_ms + b.plan_ms - (a.exec_ms + a.plan_ms)),
    totalMs: all.reduce((s, r) => s + r.total_ms, 0),
    totalPlanMs: all.reduce((s, r) => s + r.plan_ms * r.calls, 0),
    totalCalls: all.reduce((s, r) => s + r.calls, 0),
  };
}

export interface ActivitySampler {
  /** Average number of backends per state over the samples, e.g. `active (cpu)`, `Lock:advisory`, `idle in transaction`. */
  stop(): Promise<{ samples: number; states: Record<string, number>; waiting: Record<string, number>; holdingXid: Record<string, number> }>;
}

/** Samples pg_stat_activity of this database every `intervalMs` (at 50 ms the sampling was a sixth of PostgreSQL's statement time on a loaded machine, charged to the system). */
export function sampleActivity(pool: pg.Pool, intervalMs = 250): ActivitySampler {
  const states = new Map<string, number>();
  const waiting = new Map<string, number>();
  // Transactions that hold an xid (they wrote something) keep the global log's readers
  // below their start (read_page's xmin watermark): who they are and what they last ran.
  const holdingXid = new Map<string, number>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await pool.query<{ state: string | null; wait_event_type: string | null; wait_event: string | null; query: string; usename: string | null; has_xid: boolean }>(
        `select state, wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) as query, usename, backend_xid is not null as has_xid
           from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
      );
      samples++;
      for (const r of rows) {
        const key =
          r.state === 'active'
            ? r.wait_event_type
              ? `active, waiting ${r.wait_event_type}:${r.wait_event}`
              : 'active (on CPU)'
            : (r.state ?? 'unknown');
        states.set(key, (states.get(key) ?? 0) + 1);
        if (r.has_xid) {
          const who = `${r.usename ?? '?'} ${r.state ?? ''} ← ${r.query}`;
          holdingXid.set(who, (holdingXid.get(who) ?? 0) + 1);
        }
        if (r.state === 'active' && r.wait_event_type && r.wait_event_type !== 'Client') {
          const what = `${r.wait_event_type}:${r.wait_event} ← ${r.query}`;
          waiting.set(what, (waiting.get(what) ?? 0) + 1);
        }
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  const average = (m: Map<string, number>) => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / Math.max(1, samples)]));
  return {
    stop: async () => {
      running = false;
      await loop;
      return { samples, states: average(states), waiting: average(waiting), holdingXid: average(holdingXid) };
    },
  };
}
