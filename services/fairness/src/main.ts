/**
 * The fairness process: `tsx services/fairness/src/main.ts`. Reads its environment,
 * connects to PostgreSQL and NATS, runs migrations, starts the service and the health
 * endpoints, and shuts down gracefully on SIGTERM/SIGINT (running distributions finish;
 * a kill -9 is recovered by the next process from the lead streams).
 */
import { jetstream } from '@nats-io/jetstream';
import { loadConfig } from '@fairlead/platform';
import { openServiceRuntime, serveService } from '@fairlead/platform/runtime';
import { fairnessConfigSchema } from './config';
import { fairnessHttp } from './http/surface';
import { startFairnessService } from './service';

const config = loadConfig(fairnessConfigSchema);
const runtime = await openServiceRuntime(config);
const { pool, store, nc, subjects, logger, registry } = runtime;

const service = await startFairnessService({
  pool,
  store,
  nc,
  js: jetstream(nc),
  subjects,
  logger,
  registry,
  config: {
    streamReplicas: config.NATS_STREAM_REPLICAS,
    backoffMs: config.RETRY_BACKOFF_MS,
    concurrency: config.DISTRIBUTION_CONCURRENCY,
    maxBatch: config.DISTRIBUTION_BATCH_MAX,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    ackWaitMs: config.ACK_WAIT_MS,
  },
});

await serveService(config, runtime, { service, readers: service.readers, ...fairnessHttp(service) });
