/**
 * The rotation service in one call, for main.ts and for in-process tests: its migrations
 * and the command server on `fairlead.cmd.rotation.*`.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Subjects } from '@fairlead/contracts';
import { observeAppends, type PostgresEventStore } from '@fairlead/event-store';
import { serveCommands } from '@fairlead/messaging';
import { createMetricsRegistry } from '@fairlead/platform';
import { createRotationCommands, type RotationCommands } from './application/niche-commands';
import { NicheRepository } from './application/niche-repository';
import { createRotationMetrics } from './metrics';
import { migrateRotation } from './schema';

export interface RotationConfig {
  /** auto_distribute of a niche created without one (default true). */
  autoDistributeDefault?: boolean;
  /** Re-reads of a niche after a concurrent append before a write gives up (default 5). */
  maxConflicts?: number;
  /** Niche writes in flight at once in this process (default: half the pool). */
  maxConcurrentWrites?: number;
}

export interface RotationServiceDeps {
  pool: pg.Pool;
  store: PostgresEventStore;
  nc: NatsConnection;
  subjects: Subjects;
  logger: Logger;
  /** Unused by rotation's decisions (they depend on order, not time); accepted for uniformity. */
  clock?: () => Date;
  config?: RotationConfig;
  /** Metrics registry to add to (default: a new one for service `rotation`). */
  registry?: Registry;
}

export interface RotationService {
  /** The command handlers, for callers in the same process. */
  commands: RotationCommands;
  /** The Prometheus series (claims, pointer positions, configuration changes): serve with registerMetricsRoute. */
  readonly registry: Registry;
  /** Stops taking requests and waits for the ones in progress. */
  stop(): Promise<void>;
}

export async function startRotationService(deps: RotationServiceDeps): Promise<RotationService> {
  const config = deps.config ?? {};
  await migrateRotation(deps.pool, deps.store.schema);
  const registry = deps.registry ?? createMetricsRegistry('rotation');
  const repository = new NicheRepository({
    pool: deps.pool,
    store: observeAppends(deps.store, createRotationMetrics(registry).onAppended),
    ...(config.maxConflicts === undefined ? {} : { maxConflicts: config.maxConflicts }),
    ...(config.maxConcurrentWrites === undefined ? {} : { maxConcurrentWrites: config.maxConcurrentWrites }),
  });
  const commands = createRotationCommands({ pool: deps.pool, repository, autoDistributeDefault: config.autoDistributeDefault ?? true });
  const server = serveCommands(
    deps.nc,
    deps.subjects,
    'rotation',
    {
      create_niche: commands.createNiche,
      update_niche: commands.updateNiche,
      add_level: commands.addLevel,
      update_level: commands.updateLevel,
      get_niche: commands.getNiche,
      claim_start_level: commands.claimStartLevel,
      claim_start_levels: commands.claimStartLevels,
    },
    deps.logger,
  );
  deps.logger.info({ namespace: deps.subjects.namespace || '(none)' }, 'rotation serving commands');
  return { commands, registry, stop: () => server.stop() };
}
