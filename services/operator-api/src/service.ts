/**
 * The operator API in one call, for main.ts, tests and the benchmark: the read models
 * (projectors in schema `operator`), the HTTP app (OpenAPI at /docs, /metrics, health),
 * bearer-token auth with roles and MFA, rate limiting, and the routes.
 */
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Subjects } from '@fairlead/contracts';
import { assertIdentifier, type EventStore, type PostgresEventStore } from '@fairlead/event-store';
import { declareStreams, fairleadStreams } from '@fairlead/messaging';
import {
  createHttpApp,
  createMetricsRegistry,
  createTokenVerifier,
  installAuth,
  installRateLimit,
  listen,
  natsReadiness,
  postgresReadiness,
  readersReadiness,
  registerMetricsRoute,
  registerReaderMetrics,
  serveReaderStatus,
  type HttpApp,
  type ProtectedRoute,
  type TokenVerifierOptions,
} from '@fairlead/platform';
import { startProjectorGroup, type RunningProjector } from '@fairlead/projections';
import { createCommandBus } from './application/commands';
import { OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS } from './config';
import { createDeadLetterQueue } from './application/dead-letters';
import { createLogReaders } from './application/readers';
import type { ApiContext } from './http/context';
import { registerAssignmentRoutes } from './http/routes/assignments.routes';
import { registerAuditRoutes } from './http/routes/audit.routes';
import { registerDeadLetterRoutes } from './http/routes/dead-letters.routes';
import { registerLeadRoutes } from './http/routes/leads.routes';
import { registerNicheRoutes } from './http/routes/niches.routes';
import { registerProjectionRoutes } from './http/routes/projections.routes';
import { registerProviderRoutes } from './http/routes/providers.routes';
import { registerSubscriptionRoutes } from './http/routes/subscriptions.routes';
import { registerWalletRoutes } from './http/routes/wallets.routes';
import { registerApiMetrics } from './metrics';
import { PROJECTIONS, SCHEMA } from './projections/index';

export interface OperatorApiConfig {
  /** Requests per client IP per window (default 600 per minute). */
  rateLimitMax?: number;
  rateLimitWindowMs?: number;
  /** Reply timeout of commands sent to the owning services (default 5000 ms). */
  commandTimeoutMs?: number;
  /** Declare the Fairlead JetStream streams at start (default true). */
  declareStreams?: boolean;
  /** Replicas of the streams it declares (NATS_STREAM_REPLICAS; 1 on one server, 3 on a three-node cluster). */
  streamReplicas?: number | undefined;
  /** Run the projectors in this process (default true; false serves what another instance projects). */
  projections?: boolean;
  /** Trust X-Forwarded-* (behind a reverse proxy), so rate limits apply per client. */
  trustProxy?: boolean;
  /** Origins whose browser pages may call the API (CORS); none by default. */
  corsOrigins?: readonly string[];
  /** How long GET /api/v1/admin/projections gathers the processes' answers (default 750 ms). */
  readerStatusWaitMs?: number;
  /**
   * Least time between two reads of the log by the read models once caught up (default
   * OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS, 250 ms); caughtUp() reads at once.
   */
  projectionMinReadIntervalMs?: number;
}

/**
 * The event log as the API uses it: the read models follow it (EventStore), and the decision
 * record reads its rounds' events from its table by SQL, through the API's pool, in the schema
 * the store names (PostgresEventStore.schema).
 */
export type OperatorApiStore = EventStore & Pick<PostgresEventStore, 'schema'>;

export interface OperatorApiDeps {
  pool: pg.Pool;
  /** The event log, its tables in `pool`'s database (a PostgresEventStore). */
  store: OperatorApiStore;
  nc: NatsConnection;
  subjects: Subjects;
  logger: Logger;
  auth: TokenVerifierOptions;
  serviceName?: string;
  clock?: () => Date;
  newId?: () => string;
  config?: OperatorApiConfig;
}

export interface OperatorApi {
  app: HttpApp;
  /** Every protected route as registered (method, url, access level). */
  routes: readonly ProtectedRoute[];
  metrics: Registry;
  /** Resolves once every read model has applied everything stored now. */
  caughtUp(timeoutMs?: number): Promise<void>;
  listen(options: { host: string; port: number }): Promise<string>;
  /** Closes the HTTP server and stops the projectors (not the pool, store or NATS it was given). */
  stop(): Promise<void>;
}

export async function startOperatorApi(deps: OperatorApiDeps): Promise<OperatorApi> {
  const { pool, store, nc, subjects, logger } = deps;
  const config = deps.config ?? {};
  const storeSchema = storeSchemaOf(store);
  const jsm = await jetstreamManager(nc);
  if (config.declareStreams !== false) await declareStreams(jsm, fairleadStreams(subjects, { replicas: config.streamReplicas ?? 1 }));

  const projectors: RunningProjector[] = [];
  const stopProjectors = async () => void (await Promise.allSettled(projectors.map((p) => p.stop())));
  if (config.projections !== false) {
    try {
      // One reader of the log for all the read models: each page is read once, applied in one transaction.
      projectors.push(
        ...(await startProjectorGroup({
          store,
          pool,
          schema: SCHEMA,
          projections: PROJECTIONS,
          logger,
          minReadIntervalMs: config.projectionMinReadIntervalMs ?? OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS,
        })),
      );
    } catch (error) {
      await stopProjectors();
      throw error;
    }
    for (const p of projectors) {
      // An event a read model cannot apply stalls only it (reported: /readyz, metrics, GET /api/v1/admin/projections); this is anything else.
      p.done.catch((err: unknown) => logger.error({ err, projection: p.name }, 'projection stopped'));
    }
  }
  const readers = () => projectors.map((p) => p.status());
  // Without projections (the OpenAPI export, a read-only replica) there is no reader to report.
  const statusServer = config.projections !== false ? serveReaderStatus(nc, subjects, { service: deps.serviceName ?? 'operator-api', readers }) : undefined;

  const app = await createHttpApp({
    logger,
    serviceName: deps.serviceName ?? 'operator-api',
    // Not ready while a read model is stalled: its answers are stale until an operator acts.
    readinessChecks: [postgresReadiness(pool), natsReadiness(nc), readersReadiness(readers)],
    trustProxy: config.trustProxy ?? false,
    ...(config.corsOrigins ? { corsOrigins: config.corsOrigins } : {}),
    openapi: {
      title: 'Fairlead operator API',
      version: '1.0.0',
      description:
        'Operators query the read models and act: distribute leads, top up wallets, manage niches, providers and subscriptions, redrive dead letters. ' +
        'Bearer JWT with a role (viewer: reads; operator: reads, distribute, top-ups, redrive; admin: everything); every change needs MFA (amr includes "mfa"). ' +
        'Updates need If-Match with the ETag read; a stale one gets 412.',
      bearerAuth: true,
    },
  });

  const metrics = createMetricsRegistry(deps.serviceName ?? 'operator-api');
  registerMetricsRoute(app, metrics);
  registerApiMetrics(app, metrics, { projectors: () => projectors, jsm, deadLetterStream: subjects.streams.deadLetters });
  registerReaderMetrics(metrics, readers);

  await installRateLimit(app, { ...(config.rateLimitMax ? { max: config.rateLimitMax } : {}), ...(config.rateLimitWindowMs ? { windowMs: config.rateLimitWindowMs } : {}) });
  const routes = installAuth(app, createTokenVerifier(deps.auth), { prefix: '/api/' });

  const bus = createCommandBus({ nc, subjects, ...(config.commandTimeoutMs ? { timeoutMs: config.commandTimeoutMs } : {}) });
  const ctx: ApiContext = {
    pool,
    store,
    storeSchema,
    bus,
    dlq: createDeadLetterQueue({ jsm, js: jetstream(nc), subjects, bus }),
    readers: createLogReaders({ nc, subjects, ...(config.readerStatusWaitMs ? { waitMs: config.readerStatusWaitMs } : {}) }),
    clock: deps.clock ?? (() => new Date()),
    newId: deps.newId ?? randomUUID,
  };
  registerLeadRoutes(app, ctx);
  registerAssignmentRoutes(app, ctx);
  registerNicheRoutes(app, ctx);
  registerProviderRoutes(app, ctx);
  registerWalletRoutes(app, ctx);
  registerSubscriptionRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  registerDeadLetterRoutes(app, ctx);
  registerProjectionRoutes(app, ctx);
  await app.ready();

  return {
    app,
    routes,
    metrics,
    caughtUp: async (timeoutMs) => void (await Promise.all(projectors.map((p) => p.waitUntilCaughtUp(timeoutMs)))),
    listen: (options) => listen(app, options),
    stop: async () => {
      statusServer?.stop();
      await app.close();
      await stopProjectors();
    },
  };
}

/**
 * The schema of the store's tables, checked once at start: a store that names none (a caller
 * past the type checker) is refused here, not read as if its tables were in `eventstore`.
 */
function storeSchemaOf(store: OperatorApiStore): string {
  const schema: unknown = store.schema;
  if (typeof schema !== 'string') {
    throw new TypeError(`startOperatorApi: deps.store must name the PostgreSQL schema of its tables (store.schema, as a PostgresEventStore does), got ${typeof schema}`);
  }
  return assertIdentifier(schema, 'the event store schema (deps.store.schema)');
}
