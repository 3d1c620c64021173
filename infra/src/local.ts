import { resolve } from 'node:path';
import { bootstrapDatabase, databaseRoleOf, ensureDatabase, ensureDatabaseRoles, localDatabaseUrl, localPassword, startEmbeddedPostgres, startNatsCluster, startNatsServer, bootstrapBus, ensureBusCredentials, writeNatsServerConfig, type BusCredentials, type RunningNats } from '@fairlead/local-servers';

/** How one service reaches the database: its URL and, for its own role, its password file. */
export interface ServiceDatabase {
  DATABASE_URL: string;
  DATABASE_PASSWORD_FILE?: string;
}

export interface LocalInfrastructure {
  /** The admin's URL (the superuser of the embedded server, or DATABASE_URL as given). */
  databaseUrl: string;
  /**
   * What a service logs in with: on the embedded server its own role (libs/local-servers/src/database-roles.ts)
   * and password file; with DATABASE_URL given, that URL for every service.
   */
  databaseFor(service: string): ServiceDatabase;
  /** One URL, or a cluster's URLs comma separated. */
  natsUrl: string;
  /** Replicas the streams should have: the number of local nats-server nodes (1 with NATS_URL). */
  streamReplicas: number;
  /** Which parts this process started (and so stops): external URLs are left alone. */
  started: { postgres: boolean; nats: boolean };
  /** The bus identities' credentials of the local nats-server (none with NATS_URL: the deployment brings its own). */
  bus: BusCredentials | undefined;
  stop(): Promise<void>;
}

export interface LocalInfrastructureOptions {
  /** Root of the local state, `.data/` of the repository by default. */
  dataRoot: string;
  /** Given URLs skip the bootstrap of that part. */
  databaseUrl?: string | undefined;
  natsUrl?: string | undefined;
  postgresPort: number;
  /** Client port of the nats-server (of the first node; the others follow it). */
  natsPort: number;
  /** 1 (default): one nats-server; 3: a local cluster, client ports natsPort…+2, route ports natsPort+100…+102. */
  natsNodes?: number;
  /** Database to create and use on the embedded server. */
  databaseName: string;
  /** NATS_NAMESPACE of the services ('' by default): the permissions and streams use it. */
  natsNamespace?: string | undefined;
  log: (line: string) => void;
}

/** Route ports of a local cluster sit this far above its client ports. */
const ROUTE_PORT_OFFSET = 100;

/**
 * The bootstrap of `npm start`: persistent embedded PostgreSQL (durable commits) and a
 * local nats-server with JetStream — or a local cluster of them — under `.data/`, unless
 * DATABASE_URL / NATS_URL point elsewhere. A server that dies is said loudly and started
 * again (with a growing delay) until stop().
 */
export async function startLocalInfrastructure(options: LocalInfrastructureOptions): Promise<LocalInfrastructure> {
  const stops: Array<() => Promise<void>> = [];
  let stopping = false;
  const { log } = options;
  /** Restarts a server that died, for as long as it takes. */
  const revive = (label: string, restart: () => Promise<void>) => (description: string) => {
    if (stopping) return;
    log(`${label} ${description} unexpectedly; restarting it`);
    void (async () => {
      for (let attempt = 1; !stopping; attempt++) {
        try {
          await restart();
          log(`${label} is running again`);
          return;
        } catch (error) {
          const delay = Math.min(30_000, 1_000 * 2 ** (attempt - 1));
          log(`${label} did not start again (${(error as Error).message.split('\n')[0]}); next try in ${delay / 1_000} s`);
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    })();
  };

  let databaseUrl = options.databaseUrl;
  let natsUrl = options.natsUrl;
  let bus: BusCredentials | undefined;
  const nodes = options.natsNodes ?? 1;
  try {
    if (!databaseUrl) {
      const dataDir = resolve(options.dataRoot, 'postgres');
      log(`starting embedded PostgreSQL on 127.0.0.1:${options.postgresPort} (data in ${dataDir})`);
      let restart: () => Promise<void> = async () => undefined;
      const pg = await startEmbeddedPostgres({
        dataDir,
        port: options.postgresPort,
        persistent: true,
        onNotice: log,
        onUnexpectedExit: (d) => revive('PostgreSQL', () => restart())(d),
      });
      restart = pg.restart;
      stops.push(pg.stop);
      databaseUrl = await ensureDatabase(pg.url, options.databaseName);
      // Each service logs in as its own role (docs/security.md#database), with a password of this data directory.
      await ensureDatabaseRoles(pg.url, (role) => localPassword(options.dataRoot, role));
      await bootstrapDatabase(databaseUrl);
    }
    if (!natsUrl) {
      // Every connection authenticates: one generated identity per service, upstream and admin (docs/security.md "Bus").
      bus = await ensureBusCredentials(resolve(options.dataRoot, 'auth', 'nats'));
      const authFile = await writeNatsServerConfig(resolve(bus.dir, 'nats-server.conf'), bus, { namespace: options.natsNamespace ?? '' });
      if (nodes === 1) {
        log(`starting nats-server with JetStream on 127.0.0.1:${options.natsPort}`);
        const server: RunningNats = await startNatsServer({
          port: options.natsPort,
          storeDir: resolve(options.dataRoot, 'nats'),
          extraArgs: ['-c', authFile],
          onUnexpectedExit: (d) => revive('nats-server', () => server.restart())(d),
        });
        stops.push(server.stop);
        natsUrl = server.url;
      } else {
        const ports = Array.from({ length: nodes }, (_, i) => options.natsPort + i);
        log(`starting a ${nodes}-node nats-server cluster with JetStream on 127.0.0.1:${ports.join(', ')}`);
        const byName = new Map<string, RunningNats>();
        const cluster = await startNatsCluster({
          ports,
          clusterPorts: ports.map((p) => p + ROUTE_PORT_OFFSET),
          dir: resolve(options.dataRoot, 'nats-cluster'),
          includes: [authFile],
          routeAuth: bus.route,
          adminSeed: bus.seed('admin'),
          onUnexpectedExit: (node, d) => revive(`nats-server ${node}`, () => byName.get(node)!.restart())(d),
        });
        for (const n of cluster.nodes) byName.set(n.name, n.server);
        stops.push(cluster.stop);
        natsUrl = cluster.url;
      }
      // The streams exist before any service starts: services may look them up, not create them.
      await bootstrapBus({ servers: natsUrl.split(','), adminSeed: bus.seed('admin'), namespace: options.natsNamespace ?? '', replicas: nodes });
    }
  } catch (error) {
    stopping = true;
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw error;
  }
  const port = options.postgresPort;
  const ownServer = !options.databaseUrl;
  return {
    databaseUrl,
    databaseFor: (service) => {
      if (!ownServer || !databaseRoleOf(service)) return { DATABASE_URL: databaseUrl };
      const local = localDatabaseUrl({ dataDir: options.dataRoot, role: service, port, database: options.databaseName });
      return local.env;
    },
    natsUrl,
    streamReplicas: options.natsUrl ? 1 : nodes,
    started: { postgres: !options.databaseUrl, nats: !options.natsUrl },
    bus,
    stop: async () => {
      stopping = true;
      // NATS first: the services are gone by now, and PostgreSQL holds the record.
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
    },
  };
}
