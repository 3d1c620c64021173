/**
 * The intake service in one call, for main.ts and for in-process tests: the JetStream
 * streams, the durable `lead.approved` consumer and the command server on
 * `fairlead.cmd.intake.*`. HTTP routes are added to an app with registerIntakeRoutes.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Subjects } from '@fairlead/contracts';
import { observeAppends, type PostgresEventStore } from '@fairlead/event-store';
import { declareStreams, fairleadStreams, type ConsumerStats } from '@fairlead/messaging';
import { createMetricsRegistry, registerConsumerMetrics } from '@fairlead/platform';
import { createIntakeCommands, type IntakeCommands, type LeadLimits } from './application/intake-commands';
import { cachedNicheDirectory, INTAKE_DEFAULT_NICHE_CACHE_TTL_MS } from './application/niche-cache';
import { natsNicheDirectory, type NicheDirectory } from './application/niche-directory';
import { createIntakeMetrics } from './metrics';
import { serveIntakeCommands } from './nats/command-server';
import { startLeadApprovedConsumer } from './nats/lead-approved-consumer';

export interface IntakeConfig {
  /** Delays before each retry of a lead.approved message (default 5 s, 15 s, 45 s, 2 min, 5 min). */
  backoffMs?: readonly number[];
  /** lead.approved messages handled at once (default 8). */
  concurrency?: number;
  /** Timeout of the niche lookup at rotation (default 5000 ms). */
  requestTimeoutMs?: number;
  /** How long a niche found at rotation is reused (default 1000 ms; 0 asks rotation for every lead): a changed auto_distribute flag applies to leads approved up to this much later. */
  nicheCacheTtlMs?: number;
  /** Durable consumer name (default `intake-lead-approved`). */
  durable?: string;
  /** Declare the Fairlead JetStream streams at start (default true). */
  declareStreams?: boolean;
  /** Replicas of the streams it declares (NATS_STREAM_REPLICAS; 1 on one server, 3 on a three-node cluster). */
  streamReplicas?: number | undefined;
  /** Largest lead accepted, in bytes and nesting (default LEAD_LIMITS: 64 KiB, 32 levels). */
  leadLimits?: LeadLimits;
}

export interface IntakeServiceDeps {
  /** Not used by intake's own logic (it has no tables); kept for readiness and uniformity. */
  pool?: pg.Pool;
  store: PostgresEventStore;
  nc: NatsConnection;
  subjects: Subjects;
  logger: Logger;
  clock?: () => Date;
  config?: IntakeConfig;
  /** Replace the niche lookup (defaults to rotation's get_niche over NATS); the niche cache (nicheCacheTtlMs) sits in front of either. */
  niches?: NicheDirectory;
  /** Metrics registry to add to (default: a new one for service `intake`). */
  registry?: Registry;
}

export interface IntakeService {
  /** The use cases, for the HTTP routes (registerIntakeRoutes) and in-process callers. */
  commands: IntakeCommands;
  /** Counters of the lead.approved consumer. */
  stats(): ConsumerStats;
  /** The Prometheus series (approvals, rejections, requests, consumer lag): serve with registerMetricsRoute. */
  readonly registry: Registry;
  /** Stops taking messages and requests; lets those in progress finish. */
  stop(): Promise<void>;
}

export async function startIntakeService(deps: IntakeServiceDeps): Promise<IntakeService> {
  const { nc, subjects, logger } = deps;
  const config = deps.config ?? {};
  const registry = deps.registry ?? createMetricsRegistry('intake');
  const store = observeAppends(deps.store, createIntakeMetrics(registry).onAppended);
  const jsm = await jetstreamManager(nc);
  if (config.declareStreams !== false) await declareStreams(jsm, fairleadStreams(subjects, { replicas: config.streamReplicas ?? 1 }));
  const niches = cachedNicheDirectory(deps.niches ?? natsNicheDirectory({ nc, subjects, ...(config.requestTimeoutMs ? { timeoutMs: config.requestTimeoutMs } : {}) }), {
    ttlMs: config.nicheCacheTtlMs ?? INTAKE_DEFAULT_NICHE_CACHE_TTL_MS,
  });
  const commands = createIntakeCommands({ store, niches, clock: deps.clock ?? (() => new Date()), ...(config.leadLimits ? { limits: config.leadLimits } : {}) });
  const server = serveIntakeCommands(nc, subjects, commands, logger);
  const consumer = await startLeadApprovedConsumer({
    js: jetstream(nc),
    jsm,
    subjects,
    commands,
    logger,
    ...(config.durable ? { durable: config.durable } : {}),
    ...(config.concurrency ? { concurrency: config.concurrency } : {}),
    ...(config.backoffMs ? { backoffMs: config.backoffMs } : {}),
  }).catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  registerConsumerMetrics(registry, { consumers: () => [consumer], position: (durable) => jsm.consumers.info(subjects.streams.leadIntake, durable) });
  logger.info({ namespace: subjects.namespace || '(none)' }, 'intake consuming lead.approved and serving commands');

  return {
    commands,
    registry,
    stats: () => consumer.stats(),
    stop: async () => {
      await consumer.stop();
      await server.stop();
    },
  };
}
