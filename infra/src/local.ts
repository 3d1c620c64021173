import { resolve } from 'node:path';
import { ensureDatabase, startEmbeddedPostgres } from './postgres';
import { startNatsServer } from './nats';

export interface LocalInfrastructure {
  databaseUrl: string;
  natsUrl: string;
  /** Which parts this process started (and so stops): external URLs are left alone. */
  started: { postgres: boolean; nats: boolean };
  stop(): Promise<void>;
}

export interface LocalInfrastructureOptions {
  /** Root of the local state, `.data/` of the repository by default. */
  dataRoot: string;
  /** Given URLs skip the bootstrap of that part. */
  databaseUrl?: string | undefined;
  natsUrl?: string | undefined;
  postgresPort: number;
  natsPort: number;
  /** Database to create and use on the embedded server. */
  databaseName: string;
  log: (line: string) => void;
}

/**
 * The bootstrap of `npm start`: persistent embedded PostgreSQL and a local nats-server
 * with JetStream under `.data/`, unless DATABASE_URL / NATS_URL point elsewhere.
 */
export async function startLocalInfrastructure(options: LocalInfrastructureOptions): Promise<LocalInfrastructure> {
  const stops: Array<() => Promise<void>> = [];
  let databaseUrl = options.databaseUrl;
  let natsUrl = options.natsUrl;
  try {
    if (!databaseUrl) {
      options.log(`starting embedded PostgreSQL on 127.0.0.1:${options.postgresPort} (data in ${resolve(options.dataRoot, 'postgres')})`);
      const pg = await startEmbeddedPostgres({
        dataDir: resolve(options.dataRoot, 'postgres'),
        port: options.postgresPort,
        persistent: true,
      });
      stops.push(pg.stop);
      databaseUrl = await ensureDatabase(pg.url, options.databaseName);
    }
    if (!natsUrl) {
      options.log(`starting nats-server with JetStream on 127.0.0.1:${options.natsPort}`);
      const nats = await startNatsServer({ port: options.natsPort, storeDir: resolve(options.dataRoot, 'nats') });
      stops.push(nats.stop);
      natsUrl = nats.url;
    }
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw error;
  }
  return {
    databaseUrl,
    natsUrl,
    started: { postgres: !options.databaseUrl, nats: !options.natsUrl },
    stop: async () => {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
    },
  };
}
