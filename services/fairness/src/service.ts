/**
 * The fairness service in one call, for main.ts and for in-process tests: migrations,
 * the two projectors, the subscription command server and the distribution consumer.
 */
import { jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ReaderStatus, Subjects } from '@fairlead/contracts';
import { observeAppends, type PostgresEventStore } from '@fairlead/event-store';
import { declareStreams, fairleadStreams, serveCommands, type ConsumerStats } from '@fairlead/messaging';
import { createMetricsRegistry, registerConsumerMetrics } from '@fairlead/platform';
import { startProjectorGroup, type RunningProjector } from '@fairlead/projections';
import { createSubscriptionCommands } from './application/subscription-commands';
import type { BillingPort, RotationPort } from './application/ports';
import { natsBilling } from './nats/billing-client';
import { natsRotation } from './nats/rotation-client';
import { createFairnessMetrics } from './metrics';
import { startDistributionConsumer } from './nats/distribution-consumer';
import { levelsProjection } from './projections/levels/levels.projection';
import { ensureServedViewRebuilt } from './projections/subscription-stats/subscription-stats';
import { subscriptionsProjection } from './projections/subscriptions/subscriptions.projection';
import { migrateFairness, SCHEMA } from './schema';

export interface FairnessConfig {
  /** Delays before each retry of a distribution (attempts = length + 1; default 5 s, 15 s, 45 s, 2 min, 5 min). */
  backoffMs?: readonly number[];
  /** Niches decided at once by this process (default 2; each runs a batch of its queued leads). */
  concurrency?: number;
  /** Most queued distributions of one niche decided together (default 100). */
  maxBatch?: number;
  /** Timeout of each request to rotation and billing (default 5000 ms). */
  requestTimeoutMs?: number;
  /** Durable consumer name (default `fairness-distribution`). */
  durable?: string;
  /** Server's ack timer for a distribution in progress (default 30 s; kept alive while running). */
  ackWaitMs?: number;
  /** Longest wait for a level just added by rotation to reach fairness before LEVEL_NOT_FOUND (default 3000 ms). */
  levelWaitMs?: number;
  /** Declare the Fairlead JetStream streams at start (default true). */
  declareStreams?: boolean;
  /** Longest wait at start for the projections to apply the log before distributing (default 120 s). */
  catchUpTimeoutMs?: number;
  /** Replicas of the streams it declares (NATS_STREAM_REPLICAS; 1 on one server, 3 on a three-node cluster). */
  streamReplicas?: number | undefined;
}

export interface FairnessServiceDeps {
  pool: pg.Pool;
  store: PostgresEventStore;
  nc: NatsConnection;
  js: JetStreamClient;
  subjects: Subjects;
  logger: Logger;
  clock?: () => Date;
  config?: FairnessConfig;
  /** Replace the NATS clients of rotation and billing (defaults talk to those services). */
  rotation?: RotationPort;
  billing?: BillingPort;
  /** Metrics registry to add to (default: a new one for service `fairness`). */
  registry?: Registry;
}

export interface FairnessService {
  /** Resolves once both projections (levels, subscriptions) have applied everything stored now. */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Counters of the distribution consumer. */
  stats(): ConsumerStats;
  /** The Prometheus series (distribution outcomes, assignments, fairness, consumer lag): serve with registerMetricsRoute. */
  readonly registry: Registry;
  /** The status of its projections (running, or stalled on an event): for /readyz, metrics and the operator API. */
  readers(): ReaderStatus[];
  /** Stops taking work, lets running distributions finish, stops the projectors. */
  stop(): Promise<void>;
}

export async function startFairnessService(deps: FairnessServiceDeps): Promise<FairnessService> {
  const { pool, nc, js, subjects, logger } = deps;
  const config = deps.config ?? {};
  const registry = deps.registry ?? createMetricsRegistry('fairness');
  // Every write of this process goes through here, so the metrics count its own decisions.
  const store = observeAppends(deps.store, createFairnessMetrics(registry).onAppended);
  const clock = deps.clock ?? (() => new Date());
  const concurrency = config.concurrency ?? 2;
  // Each running distribution holds one connection for its niche lock and borrows another
  // to read and append: with no spare connections they would wait on each other forever.
  const poolMax = pool.options.max ?? 10;
  if (poolMax < 2 * concurrency + 2) throw new Error(`the pool (max ${poolMax}) is too small for ${concurrency} concurrent distributions: give it at least ${2 * concurrency + 2}`);
  const jsm: JetStreamManager = await jetstreamManager(nc);
  if (config.declareStreams !== false) await declareStreams(jsm, fairleadStreams(subjects, { replicas: config.streamReplicas ?? 1 }));
  await migrateFairness(pool);
  // Once after the upgrade that added pending_picks: picks recorded before it are in the log only.
  if (await ensureServedViewRebuilt(deps.store, pool)) logger.info('served view (subscription_stats, pending_picks) rebuilt from the log');

  const projectors: RunningProjector[] = [];
  const stopAll = async () => void (await Promise.allSettled(projectors.map((p) => p.stop())));
  try {
    // One reader of the log for both read models.
    projectors.push(...(await startProjectorGroup({ store, pool, schema: SCHEMA, logger, projections: [levelsProjection, subscriptionsProjection] })));
  } catch (error) {
    await stopAll();
    throw error;
  }
  for (const p of projectors) {
    // An event a projection cannot apply stalls only it (reported by readers(), /readyz and metrics); this is anything else.
    p.done.catch((err: unknown) => logger.error({ err, projection: p.name }, 'projection stopped'));
  }
  try {
    // No lead is decided on subscriptions and levels older than the log: after a restart the
    // projections first apply what was stored while the process was down.
    await Promise.all(projectors.map((p) => p.waitUntilCaughtUp(config.catchUpTimeoutMs ?? 120_000)));
  } catch (error) {
    await stopAll();
    throw error;
  }
  const commands = createSubscriptionCommands({ store, pool, ...(config.levelWaitMs !== undefined ? { levelWaitMs: config.levelWaitMs } : {}) });
  const server = serveCommands(
    nc,
    subjects,
    'fairness',
    { create_subscription: commands.create, update_subscription: commands.update, set_subscription_status: commands.setStatus, get_subscription: commands.get },
    logger,
  );

  const ports = { nc, subjects, ...(config.requestTimeoutMs ? { timeoutMs: config.requestTimeoutMs } : {}) };
  const consumer = await startDistributionConsumer({
    js,
    jsm,
    subjects,
    store,
    logger,
    distribute: {
      pool,
      store,
      rotation: deps.rotation ?? natsRotation(ports),
      billing: deps.billing ?? natsBilling(ports),
      clock,
      logger,
    },
    ...(config.backoffMs ? { backoffMs: config.backoffMs } : {}),
    concurrency,
    ...(config.maxBatch ? { maxBatch: config.maxBatch } : {}),
    ...(config.durable ? { durable: config.durable } : {}),
    ...(config.ackWaitMs ? { ackWaitMs: config.ackWaitMs } : {}),
  }).catch(async (error: unknown) => {
    await server.stop();
    await stopAll();
    throw error;
  });
  registerConsumerMetrics(registry, { consumers: () => [consumer], position: (durable) => jsm.consumers.info(subjects.streams.events, durable) });

  return {
    registry,
    caughtUp: async (timeoutMs) => void (await Promise.all(projectors.map((p) => p.waitUntilCaughtUp(timeoutMs)))),
    readers: () => projectors.map((p) => p.status()),
    stats: () => consumer.stats(),
    stop: async () => {
      await consumer.stop();
      await server.stop();
      await stopAll();
    },
  };
}
