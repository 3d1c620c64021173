/**
 * Relay throughput: the real relay (services/relay, in process, its default batch size)
 * publishes the events the store benchmark wrote to a private nats-server with JetStream,
 * from the start of the log, for `durationMs`. Events/s = events acknowledged by
 * JetStream and checkpointed, divided by the elapsed time.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { pino } from 'pino';
import { subjectsFor } from '@fairlead/contracts';
import { createPostgresEventStore } from '@fairlead/event-store';
import { freePort, startNatsServer } from '@fairlead/local-servers';
import { connectNats, declareStreams, drainAndClose, fairleadStreams } from '@fairlead/messaging';
import { RELAY_DEFAULT_BATCH_SIZE, startRelay } from '@fairlead/relay';

export interface RelayBenchContext {
  /** URL of the benchmark's database, where the event store is migrated and holds events. */
  databaseUrl: string;
  /** Schema of the event store. */
  schema: string;
  durationMs: number;
}

export async function measureRelay(context: RelayBenchContext): Promise<number | null> {
  const dir = await mkdtemp(join(tmpdir(), 'fairlead-bench-nats-'));
  await chmod(dir, 0o755);
  const nats = await startNatsServer({ port: await freePort(), storeDir: dir });
  const pool = new pg.Pool({ connectionString: context.databaseUrl, max: 4 });
  const store = createPostgresEventStore({ pool, schema: context.schema });
  const nc = await connectNats({ servers: nats.url, name: 'bench-relay' });
  try {
    const subjects = subjectsFor('bench');
    await declareStreams(await jetstreamManager(nc), fairleadStreams(subjects));
    const relay = await startRelay({
      store,
      pool,
      js: jetstream(nc),
      subjects,
      logger: pino({ level: 'silent' }),
      schema: 'bench_relay',
      batchSize: RELAY_DEFAULT_BATCH_SIZE,
    });
    const started = performance.now();
    await new Promise((r) => setTimeout(r, context.durationMs));
    await relay.stop();
    const elapsedS = (performance.now() - started) / 1000;
    const { published } = relay.status();
    process.stderr.write(`relay: ${published} events in ${elapsedS.toFixed(1)} s\n`);
    return Math.round(published / elapsedS);
  } finally {
    await drainAndClose(nc).catch(() => undefined);
    await store.close();
    await pool.query('drop schema if exists bench_relay cascade').catch(() => undefined);
    await pool.end();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
