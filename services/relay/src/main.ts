/**
 * The relay process: publishes every stored event to JetStream. Several may run; one
 * leads (advisory lock), the others wait and take over when it dies.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { subjectsFor } from '@fairlead/contracts';
import { createPostgresEventStore } from '@fairlead/event-store';
import { connectNats, natsCredentialsFrom, declareStreams, drainAndClose, fairleadStreams } from '@fairlead/messaging';
import { createLogger, createMetricsRegistry, databaseConnection, databasePool, createServiceApp, exposeReaders, listen, loadConfig, natsReadiness, onShutdown, postgresReadiness } from '@fairlead/platform';
import { startTelemetry } from '@fairlead/platform/telemetry';
import { relayConfigSchema } from './config';
import { relayHttp } from './http';
import { acquireLeadership } from './leadership';
import { createRelayMetrics } from './metrics';
import { readRelayCheckpoint, startRelay, type RunningRelay } from './relay';
import { serveRelayCommands } from './republish';

const config = loadConfig(relayConfigSchema);
const logger = createLogger({ service: config.SERVICE_NAME, level: config.LOG_LEVEL });
const telemetry = await startTelemetry({ serviceName: config.SERVICE_NAME });
const subjects = subjectsFor(config.NATS_NAMESPACE);

const pool = new pg.Pool(databasePool(config, 5));
// An idle connection PostgreSQL ends (a restart, an administrator) is logged and replaced, never an unhandled 'error' event.
pool.on('error', (err) => logger.warn({ err }, 'idle PostgreSQL connection failed'));
const store = createPostgresEventStore({ pool, maxEventBytes: config.EVENT_MAX_BYTES, onError: (err) => logger.warn({ err }, 'event store recovered from an error') });
await store.migrate();
const nc = await connectNats({ servers: config.NATS_URL.split(','), name: config.SERVICE_NAME, logger, credentials: natsCredentialsFrom(config) });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
await declareStreams(jsm, fairleadStreams(subjects, { replicas: config.NATS_STREAM_REPLICAS }));
// What a crash republishes (up to one checkpoint interval of events, plus the batch in
// flight) must reach JetStream within its duplicate window to be dropped as repeats; the
// window (5 min by default) must be far longer than the interval, with room for a restart.
const duplicateWindowMs = (await jsm.streams.info(subjects.streams.events)).config.duplicate_window / 1e6;
if (config.RELAY_CHECKPOINT_INTERVAL_MS * 10 > duplicateWindowMs) {
  throw new Error(
    `RELAY_CHECKPOINT_INTERVAL_MS (${config.RELAY_CHECKPOINT_INTERVAL_MS}) must be under a tenth of stream ${subjects.streams.events}'s duplicate window (${duplicateWindowMs} ms)`,
  );
}

// Every stored event must fit the bus with the relay's envelope; a store limit too close to it means stalls later.
const maxPayload = nc.info?.max_payload;
if (maxPayload !== undefined && config.EVENT_MAX_BYTES + 64 * 1024 > maxPayload) {
  logger.warn({ EVENT_MAX_BYTES: config.EVENT_MAX_BYTES, max_payload: maxPayload }, 'EVENT_MAX_BYTES is not 64 KiB under the NATS max_payload: large events may not fit the bus (docs/limits.md)');
}

// Every replica serves the redrive's republish (it needs the store, not the relay's position).
const commands = serveRelayCommands({ nc, js, store, subjects, logger, maxPayloadBytes: () => nc.info?.max_payload });

const leadership = acquireLeadership(databaseConnection(config), config.RELAY_LOCK_KEY);
let relay: RunningRelay | undefined;
let stopping = false;

const registry = createMetricsRegistry(config.SERVICE_NAME);
// Stalled on an event it cannot publish: not ready, a gauge, and the operator API's projection list say so.
const readers = exposeReaders({ nc, subjects, registry, service: config.SERVICE_NAME }, () => (relay ? [relay.reader()] : []));
const app = await createServiceApp({
  logger,
  serviceName: config.SERVICE_NAME,
  registry,
  readinessChecks: [postgresReadiness(pool), natsReadiness(nc), readers.readiness],
  ...relayHttp({ leader: () => leadership.isLeader(), status: () => relay?.status(), stalled: () => relay?.reader().stalled ?? null }),
});
const metrics = createRelayMetrics(registry, {
  relay: () => relay,
  storedCheckpoint: () => readRelayCheckpoint(pool),
  leader: () => leadership.isLeader(),
  pool,
  schema: store.schema,
});
await listen(app, { host: config.HTTP_HOST, port: config.HTTP_PORT });

const shutdown = onShutdown(
  [
    {
      name: 'http',
      run: () => {
        stopping = true;
        return app.close();
      },
    },
    {
      name: 'relay',
      run: async () => {
        readers.stop();
        await commands.stop();
        await relay?.stop();
      },
    },
    { name: 'leadership', run: () => leadership.release() },
    { name: 'nats', run: () => drainAndClose(nc) },
    { name: 'event store', run: () => store.close() },
    { name: 'postgres', run: () => pool.end() },
    // Only when on: a disabled SDK has nothing to flush.
    ...(telemetry.enabled ? [{ name: 'telemetry', run: () => telemetry.shutdown() }] : []),
  ],
  { logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
);

logger.info('waiting for relay leadership');
if (await becomeLeader()) {
  relay = await startRelay({
    store,
    pool,
    js,
    subjects,
    logger,
    batchSize: config.RELAY_BATCH_SIZE,
    checkpointIntervalMs: config.RELAY_CHECKPOINT_INTERVAL_MS,
    minReadIntervalMs: config.RELAY_MIN_READ_INTERVAL_MS,
    ackPerPage: config.RELAY_ACK_PER_PAGE,
    onPublished: metrics.onPublished,
    onCheckpointWritten: metrics.onCheckpointWritten,
    onPage: metrics.onPage,
    maxPayloadBytes: () => nc.info?.max_payload,
  });

  // Publishing without the lock could race another relay; failing is safer: a supervisor restarts us.
  void leadership.lost.then(() => {
    if (!stopping) {
      logger.error('relay leadership lost; exiting');
      void shutdown.shutdown('leadership lost');
    }
  });
  relay.done.catch((err: unknown) => {
    logger.error({ err }, 'relay failed; exiting');
    void shutdown.shutdown('relay failed');
  });
}

/**
 * Waits for the lock. False when a stop came first (Ctrl-C while another relay leads, or
 * while the database is away): nothing more to start, and no stack trace for a normal stop.
 * Losing the database while waiting ends the process with one line; its supervisor restarts it.
 */
async function becomeLeader(): Promise<boolean> {
  try {
    await leadership.acquired;
    logger.info('relay leadership acquired');
    return true;
  } catch (error) {
    if (stopping) return false;
    logger.error({ err: error }, 'could not wait for relay leadership; exiting');
    void shutdown.shutdown('leadership wait failed');
    return false;
  }
}
