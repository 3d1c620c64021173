/**
 * The billing service in one call, for main.ts and for in-process tests: migrations, the
 * two projections the low-balance rule reads (subscriptions, level prices) and the
 * command server on `fairlead.cmd.billing.*`.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ReaderStatus, Subjects } from '@fairlead/contracts';
import { observeAppends, type PostgresEventStore } from '@fairlead/event-store';
import { serveCommands } from '@fairlead/messaging';
import { createMetricsRegistry } from '@fairlead/platform';
import { startProjectorGroup, type RunningProjector } from '@fairlead/projections';
import { createProviderCommands, type ProviderCommands } from './application/provider-commands';
import { createWalletCommands, type WalletCommands } from './application/wallet-commands';
import { WalletLedger } from './application/wallet-ledger';
import { createBillingMetrics } from './metrics';
import { levelsProjection } from './projections/levels/levels.projection';
import { subscriptionsProjection } from './projections/subscriptions/subscriptions.projection';
import { migrateBilling, SCHEMA } from './schema';

export interface BillingConfig {
  /** Wallet writes in flight at once in this process (default: half the pool). */
  maxConcurrentWrites?: number;
}

export interface BillingServiceDeps {
  pool: pg.Pool;
  store: PostgresEventStore;
  nc: NatsConnection;
  subjects: Subjects;
  logger: Logger;
  /** Unused by billing's decisions (balances, not time); accepted for uniformity. */
  clock?: () => Date;
  config?: BillingConfig;
  /** Metrics registry to add to (default: a new one for service `billing`). */
  registry?: Registry;
}

export interface BillingService {
  providers: ProviderCommands;
  wallets: WalletCommands;
  /** The Prometheus series (charges, money moved, low-balance status changes): serve with registerMetricsRoute. */
  readonly registry: Registry;
  /** Resolves once both projections have applied everything stored now. */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** The status of its projections (running, or stalled on an event): for /readyz, metrics and the operator API. */
  readers(): ReaderStatus[];
  /** Stops taking requests (waiting for those in progress) and stops the projectors. */
  stop(): Promise<void>;
}

export async function startBillingService(deps: BillingServiceDeps): Promise<BillingService> {
  const { pool, nc, subjects, logger } = deps;
  const registry = deps.registry ?? createMetricsRegistry('billing');
  // Every write of this process goes through here, so the metrics count its own decisions.
  const store = observeAppends(deps.store, createBillingMetrics(registry).onAppended);
  await migrateBilling(pool);

  const projectors: RunningProjector[] = [];
  const stopAll = async () => void (await Promise.allSettled(projectors.map((p) => p.stop())));
  try {
    // One reader of the log for both read models.
    projectors.push(...(await startProjectorGroup({ store, pool, schema: SCHEMA, logger, projections: [subscriptionsProjection, levelsProjection] })));
  } catch (error) {
    await stopAll();
    throw error;
  }
  for (const p of projectors) {
    // An event a projection cannot apply stalls only it (reported by readers(), /readyz and metrics); this is anything else.
    p.done.catch((err: unknown) => logger.error({ err, projection: p.name }, 'projection stopped'));
  }

  const maxConcurrentWrites = deps.config?.maxConcurrentWrites;
  const ledger = new WalletLedger({ pool, store, ...(maxConcurrentWrites === undefined ? {} : { maxConcurrentWrites }) });
  const providers = createProviderCommands({ pool, store, ledger });
  const wallets = createWalletCommands({ pool, ledger, providers });
  // The server decides who may send what (libs/contracts' bus-permissions.ts): top-ups,
  // refunds and provider changes come only from the operator API, so their `actor` is the
  // operator it verified; charges only from fairness.
  const server = serveCommands(
    nc,
    subjects,
    'billing',
    {
      register_provider: providers.register,
      update_provider: providers.update,
      get_provider: providers.get,
      top_up: wallets.topUp,
      charge: wallets.charge,
      charge_many: wallets.chargeMany,
      charge_batch: wallets.chargeBatch,
      refund: wallets.refund,
    },
    logger,
  );
  logger.info({ namespace: subjects.namespace || '(none)' }, 'billing serving commands');

  return {
    providers,
    wallets,
    registry,
    caughtUp: async (timeoutMs) => void (await Promise.all(projectors.map((p) => p.waitUntilCaughtUp(timeoutMs)))),
    readers: () => projectors.map((p) => p.status()),
    stop: async () => {
      await server.stop();
      await stopAll();
    },
  };
}
