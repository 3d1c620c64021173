import type { NatsConnection } from '@nats-io/nats-core';
import { redactSecrets } from '../logger';

/** One dependency `/readyz` checks; `check` rejects when the dependency is not usable. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface CheckResult {
  status: 'up' | 'down';
  duration_ms: number;
  /** Why it is down (never a stack). */
  error?: string;
}

/** Anything that runs a query: a pg Pool or Client. */
export interface Queryable {
  query(sql: string): Promise<unknown>;
}

/** Ready when PostgreSQL answers `select 1` through this pool. */
export function postgresReadiness(pool: Queryable, name = 'postgres'): ReadinessCheck {
  return {
    name,
    check: async () => {
      await pool.query('select 1');
    },
  };
}

/** Ready when the NATS connection is open (not closed, not draining) and a round trip succeeds. */
export function natsReadiness(nc: NatsConnection, name = 'nats'): ReadinessCheck {
  return {
    name,
    check: async () => {
      if (nc.isClosed()) throw new Error('the NATS connection is closed');
      if (nc.isDraining()) throw new Error('the NATS connection is draining');
      await nc.rtt();
    },
  };
}

/**
 * Runs every check concurrently, each bounded by `timeoutMs`: a dependency that hangs
 * (e.g. a pool waiting for a connection) is reported down instead of hanging the probe.
 */
export async function runReadinessChecks(checks: readonly ReadinessCheck[], timeoutMs: number): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
  const results = await Promise.all(
    checks.map(async (c): Promise<[string, CheckResult]> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          c.check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [c.name, { status: 'up', duration_ms: elapsed(started) }];
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return [c.name, { status: 'down', duration_ms: elapsed(started), error: redactSecrets(message) }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: results.every(([, r]) => r.status === 'up'), checks: Object.fromEntries(results) };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
