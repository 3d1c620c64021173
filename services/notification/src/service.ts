/**
 * The notification service in one call, for main.ts and for in-process tests:
 * migrations, templates (checked now, not at the first email), the directory
 * projection, SMTP (or the local catcher when no SMTP URL is given), the consumers,
 * and the metrics.
 */
import { jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ReaderStatus, Subjects } from '@fairlead/contracts';
import type { EventStore } from '@fairlead/event-store';
import { declareStreams, fairleadStreams, type ConsumerRunner, type ConsumerStats } from '@fairlead/messaging';
import { createMetricsRegistry, installAuth, registerConsumerMetrics, registerHttpMetrics, registerMetricsRoute, withSpan, type HttpApp, type TokenVerifier } from '@fairlead/platform';
import { startProjector } from '@fairlead/projections';
import { createNotifier } from './application/notify';
import { countOutboxByStatus } from './application/outbox';
import { loadTemplates } from './application/templates';
import { registerNotificationRoutes } from './http/routes';
import { createNotificationMetrics } from './metrics';
import { LEAD_ASSIGNED_BATCH_MAX, startNotificationConsumers } from './nats/consumers';
import { directoryProjection } from './projections/directory/directory.projection';
import { migrateNotification, SCHEMA } from './schema';
import { startMailCatcher, type MailCatcher } from './smtp/catcher';
import { createSmtpSender, type MailSender } from './smtp/sender';

export interface NotificationConfig {
  /** SMTP server URL; when absent a local catcher is started and every email lands in it. */
  smtpUrl?: string | undefined;
  /** From header (default `Fairlead <no-reply@fairlead.local>`). */
  from?: string | undefined;
  /** Directory whose template files replace the shipped ones, file by file. */
  templatesDir?: string | undefined;
  /** Delays before each retry of an email (attempts = length + 1). */
  backoffMs?: readonly number[] | undefined;
  /** Emails sent at once per consumer (default 4). */
  concurrency?: number | undefined;
  /** Limit of one SMTP conversation step (default 15 000 ms). */
  smtpTimeoutMs?: number | undefined;
  /** Where the local catcher listens (loopback, OS-chosen port by default). */
  catcher?: { host?: string; port?: number } | undefined;
  /**
   * How long a batch of assignment emails gathers the LeadAssigned arriving after its first (default 200 ms,
   * at most 1 s): the longer, the more leads share a batch's statements at a low rate, and the later its emails go.
   */
  assignmentGatherMs?: number | undefined;
  /** Durable consumer name prefix (default `notification`). */
  durablePrefix?: string | undefined;
  /** Declare the Fairlead JetStream streams at start (default true). */
  declareStreams?: boolean | undefined;
  /** Replicas of the streams it declares (NATS_STREAM_REPLICAS; 1 on one server, 3 on a three-node cluster). */
  streamReplicas?: number | undefined;
}

export interface NotificationServiceDeps {
  pool: pg.Pool;
  store: EventStore;
  nc: NatsConnection;
  js: JetStreamClient;
  subjects: Subjects;
  logger: Logger;
  config?: NotificationConfig;
  /** Metrics registry to add to (default: a new one for service `notification`). */
  registry?: Registry;
}

export interface NotificationService {
  /** `smtp` when sending to SMTP_URL, `catcher` when mails go to the local catcher. */
  readonly mode: 'smtp' | 'catcher';
  /** The local catcher, in catcher mode. */
  readonly catcher: MailCatcher | undefined;
  readonly registry: Registry;
  /** Resolves once the directory read model has applied everything stored now. */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Counters of each consumer, by durable name. */
  stats(): Record<string, ConsumerStats>;
  /** The status of its projection (running, or stalled on an event): for /readyz, metrics and the operator API. */
  readers(): ReaderStatus[];
  /**
   * Adds `/v1/mail` and `/v1/outbox` (an operator JWT, any role: they show recipients and
   * whole emails) and `/metrics` to an app from createHttpApp. Installs the authentication of
   * `/v1/`: a further `/v1/` route must declare its access.
   */
  registerRoutes(app: HttpApp, auth: { verify: TokenVerifier }): void;
  /** Stops taking messages, finishes those in hand, stops the projector and the catcher. */
  stop(): Promise<void>;
}

const DEFAULT_FROM = 'Fairlead <no-reply@fairlead.local>';
/** Least time between two reads of the log by the directory projector for commits of niche streams. */
const DIRECTORY_MIN_READ_INTERVAL_MS = 1_000;

export async function startNotificationService(deps: NotificationServiceDeps): Promise<NotificationService> {
  const { pool, store, nc, js, subjects, logger } = deps;
  const config = deps.config ?? {};
  const registry = deps.registry ?? createMetricsRegistry('notification');

  await migrateNotification(pool);
  const templates = await loadTemplates({ overrideDir: config.templatesDir });
  const jsm = await jetstreamManager(nc);
  if (config.declareStreams !== false) await declareStreams(jsm, fairleadStreams(subjects, { replicas: config.streamReplicas ?? 1 }));

  const cleanups: (() => Promise<unknown>)[] = [];
  // In reverse order of start: consumers finish their emails before the catcher and the projector go.
  const cleanup = async () => {
    for (const step of cleanups.splice(0).reverse()) await step().catch((err: unknown) => logger.warn({ err }, 'notification stop step failed'));
  };
  try {
    let catcher: MailCatcher | undefined;
    if (!config.smtpUrl) {
      catcher = await startMailCatcher({ pool, logger, ...config.catcher });
      cleanups.push(() => catcher!.stop());
      logger.info({ smtp: catcher.url }, 'no SMTP_URL: emails go to the local mail catcher (GET /v1/mail)');
    }
    const smtpUrl = config.smtpUrl ?? catcher!.url;
    // A connection for every email the two consumers may send at once; to the catcher (in this process), one for every
    // email of a batch, so that a batch's emails reach it at once and it stores them with one insert instead of one per
    // round of eight (micro-benchmark: 1.8 → 1.5 statements per lead at 12 leads/s, 1.0 → 0.6 at 36).
    const maxConnections = catcher ? Math.max(LEAD_ASSIGNED_BATCH_MAX, 2 * (config.concurrency ?? 4)) : 2 * (config.concurrency ?? 4);
    const smtp = createSmtpSender({ url: smtpUrl, maxConnections, ...(config.smtpTimeoutMs ? { timeoutMs: config.smtpTimeoutMs } : {}) });
    // A span per SMTP conversation, child of the consumer handler's (the end of a lead's trace).
    const smtpHost = new URL(smtpUrl).hostname;
    const sender: MailSender = {
      send: (mail) => withSpan('smtp send', () => smtp.send(mail), { kind: 'client', attributes: { 'server.address': smtpHost } }),
      close: () => smtp.close(),
    };
    cleanups.push(async () => sender.close());

    // The niche streams are committed on every lead (rotation's StartLevelClaimed, which the directory skips), and each
    // commit woke the projector for a read of the log: about one read per lead at a low rate. Niche commits are now
    // read at most once a second (a niche renamed reaches emails within a second; a niche or level not projected yet
    // is waited for by the email that names it); providers' and subscriptions' commits are read at once, as before.
    const directory = await startProjector({
      store,
      pool,
      schema: SCHEMA,
      projection: directoryProjection(logger),
      logger,
      minReadIntervalMs: DIRECTORY_MIN_READ_INTERVAL_MS,
      eagerCategories: ['provider', 'subscription'],
    });
    cleanups.push(() => directory.stop());
    // The projector stops on a failed apply (e.g. the database is gone); emails would then wait on stale data.
    directory.done.catch((err: unknown) => logger.error({ err, projection: directory.name }, 'projection stopped'));

    const metrics = createNotificationMetrics(registry);
    const notifier = createNotifier({
      pool,
      store,
      // PostgresEventStore's schema: a batch of assignment emails reads its leads' LeadApproved with its other facts.
      eventStoreSchema: 'schema' in store && typeof store.schema === 'string' ? store.schema : undefined,
      templates,
      sender,
      from: config.from ?? DEFAULT_FROM,
      directoryCaughtUp: () => directory.waitUntilCaughtUp(),
      metrics,
      logger,
    });
    const runners: ConsumerRunner[] = await startNotificationConsumers({
      js,
      jsm,
      subjects,
      notifier,
      logger,
      backoffMs: config.backoffMs,
      concurrency: config.concurrency,
      durablePrefix: config.durablePrefix,
      leadAssignedGatherMs: config.assignmentGatherMs,
    });
    cleanups.push(async () => Promise.all(runners.map((r) => r.stop())));

    metrics.observe({ outboxByStatus: () => countOutboxByStatus(pool) });
    registerConsumerMetrics(registry, { consumers: () => runners, position: (durable) => jsm.consumers.info(subjects.streams.events, durable) });

    return {
      mode: catcher ? 'catcher' : 'smtp',
      catcher,
      registry,
      caughtUp: (timeoutMs) => directory.waitUntilCaughtUp(timeoutMs),
      stats: () => Object.fromEntries(runners.map((r) => [r.durable, r.stats()])),
      readers: () => [directory.status()],
      registerRoutes: (app, auth) => {
        installAuth(app, auth.verify, { prefix: '/v1/' });
        registerNotificationRoutes(app, { pool });
        registerHttpMetrics(app, registry);
        registerMetricsRoute(app, registry);
      },
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
