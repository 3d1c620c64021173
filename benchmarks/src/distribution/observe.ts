/**
 * What one phase cost: CPU seconds per process, PostgreSQL transactions, rows and
 * statements, backend states, events appended by type, and (profiling) NATS messages.
 * `start()` before the phase, `finish()` after its last outcome.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type pg from 'pg';
import { countTraffic, type TrafficCounter } from './nats-traffic';
import { counterDelta, databaseCounters, resetStatements, sampleActivity, topStatements, type DatabaseCounters, type RoleStatements, type StatementRow } from './pg-stats';
import { childrenCpu, childrenCpuDelta, sampleCpu, sampleSwitches, type CpuSource, type Switches } from './processes';
import { monotonicMicros } from './profile';

export interface PhaseCost {
  seconds: number;
  cpu: Record<string, number>;
  /** PostgreSQL's CPU seconds by backend (the role it serves) and helper process (walwriter, autovacuum…). */
  postgresCpu?: Record<string, number>;
  /** Context switches per process in the phase (PostgreSQL: of the backends alive at both ends). */
  switches: Record<string, Switches>;
  database: DatabaseCounters;
  statements?: { rows: StatementRow[]; byCalls: StatementRow[]; byRole: RoleStatements[]; totalMs: number; totalPlanMs: number; totalCalls: number };
  activity: { samples: number; states: Record<string, number>; waiting: Record<string, number>; holdingXid: Record<string, number> };
  events: { total: number; byType: Record<string, number> };
  traffic?: Record<string, number>;
  /** Monotonic window (µs), for the CPU profiles. */
  window: { fromUs: number; toUs: number };
}

export interface ObserveOptions {
  pool: pg.Pool;
  cpu: Record<string, CpuSource>;
  statements: boolean;
  /** Count NATS messages on this connection (profiling only). */
  traffic?: { nc: NatsConnection; namespace: string };
}

export async function startObserving(options: ObserveOptions): Promise<{ finish(): Promise<PhaseCost> }> {
  const { pool } = options;
  const position = Number((await pool.query<{ p: string | null }>('select max(global_position) as p from eventstore.events')).rows[0]!.p ?? 0);
  if (options.statements) await resetStatements(pool);
  const counters = await databaseCounters(pool);
  const cpu = await sampleCpu(options.cpu);
  const switches = await sampleSwitches(options.cpu);
  const pgTree = options.cpu.postgres && 'tree' in options.cpu.postgres ? options.cpu.postgres.tree : undefined;
  const pgChildren = pgTree ? await childrenCpu(pgTree) : undefined;
  const traffic: TrafficCounter | undefined = options.traffic ? countTraffic(options.traffic.nc, options.traffic.namespace) : undefined;
  const activity = sampleActivity(pool);
  const fromUs = monotonicMicros();
  const started = performance.now();
  return {
    finish: async () => {
      const toUs = monotonicMicros();
      const seconds = (performance.now() - started) / 1_000;
      const trafficCounts = traffic?.stop();
      const cpuAfter = await sampleCpu(options.cpu);
      const switchesAfter = await sampleSwitches(options.cpu);
      const postgresCpu = pgTree && pgChildren ? childrenCpuDelta(pgChildren, await childrenCpu(pgTree), cpuAfter.postgres! - (cpu.postgres ?? 0)) : undefined;
      const activityResult = await activity.stop();
      const database = counterDelta(counters, await databaseCounters(pool));
      const statements = options.statements ? await topStatements(pool, 25) : undefined;
      const { rows } = await pool.query<{ type: string; n: number }>(
        'select type, count(*)::int as n from eventstore.events where global_position > $1 group by type order by 2 desc',
        [position],
      );
      return {
        seconds,
        cpu: Object.fromEntries(Object.entries(cpuAfter).map(([k, v]) => [k, v - (cpu[k] ?? 0)])),
        ...(postgresCpu ? { postgresCpu } : {}),
        switches: Object.fromEntries(
          Object.entries(switchesAfter).map(([k, v]) => [k, { voluntary: v.voluntary - (switches[k]?.voluntary ?? 0), involuntary: v.involuntary - (switches[k]?.involuntary ?? 0) }]),
        ),
        database,
        ...(statements ? { statements } : {}),
        activity: activityResult,
        events: { total: rows.reduce((s, r) => s + r.n, 0), byType: Object.fromEntries(rows.map((r) => [r.type, r.n])) },
        ...(trafficCounts ? { traffic: trafficCounts } : {}),
        window: { fromUs, toUs },
      };
    },
  };
}
