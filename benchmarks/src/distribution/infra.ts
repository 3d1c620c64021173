/**
 * The distribution benchmark's servers: DATABASE_URL / NATS_URL when given, else an
 * embedded PostgreSQL (with pg_stat_statements preloaded, for the profile) and a
 * nats-server of its own in temporary directories. Either way a fresh database, and a
 * NATS namespace of its own when the server is shared.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  bootstrapDatabase,
  databaseRoleOf,
  ensureBusCredentials,
  ensureDatabaseRoles,
  freePort,
  localPassword,
  passwordFileOf,
  startEmbeddedPostgres,
  startNatsCluster,
  startNatsServer,
  writeNatsServerConfig,
  type BusCredentials,
  type RunningNats,
  type RunningNatsCluster,
  type RunningPostgres,
} from '@fairlead/local-servers';

export interface BenchInfra {
  databaseUrl: string;
  /** How a service logs in: its own role and password file on the benchmark's server; DATABASE_URL as given otherwise. */
  databaseFor(service: string): Record<string, string>;
  /** The server's own database URL (for server-wide settings). */
  serverUrl: string;
  /** True when PostgreSQL is ours (embedded): its configuration may be changed. */
  ownPostgres: boolean;
  natsUrl: string;
  /** Empty on servers of our own; `bench_<hex>` on shared ones. */
  namespace: string;
  /** Where the servers came from, for the report. */
  origin: string;
  /** Pid of the postmaster (embedded only), to count PostgreSQL's CPU time. */
  postgresPid(): Promise<number | undefined>;
  /** Pids of our nats-server nodes (none with NATS_URL), to count their CPU time. */
  natsPids(): number[];
  /** nats-server nodes: 1, or the local cluster's size (BENCH_NATS_CLUSTER); 1 with NATS_URL. */
  natsNodes: number;
  /** Scratch directory for logs and profiles, removed by dispose(). */
  workDir: string;
  /**
   * The identities of our own nats-server (authorization on, as `npm start` runs it);
   * undefined with NATS_URL (the environment's credentials apply) or BENCH_NATS_AUTH=off.
   */
  bus: BusCredentials | undefined;
  dispose(): Promise<void>;
}

/** `natsNodes` > 1 starts a local cluster of that many nodes (streams then want as many replicas). */
export async function openBenchInfra(options: { natsNodes?: number; natsAuth?: boolean } = {}): Promise<BenchInfra> {
  const natsNodes = options.natsNodes ?? 1;
  let bus: BusCredentials | undefined;
  const workDir = await mkdtemp(join(tmpdir(), 'fairlead-bench-distribution-'));
  // PostgreSQL runs as its own system user when we are root; it must reach its data dir.
  await chmod(workDir, 0o755);
  let postgres: RunningPostgres | undefined;
  let nats: RunningNats | undefined;
  let cluster: RunningNatsCluster | undefined;
  const dataDir = join(workDir, 'postgres');
  const natsDir = join(workDir, 'nats');
  const suffix = randomBytes(4).toString('hex');
  let serverUrl = process.env.DATABASE_URL;
  let natsUrl = process.env.NATS_URL;
  let databaseName: string | undefined;
  const dispose = async () => {
    if (databaseName && serverUrl) await admin(serverUrl, `drop database if exists ${databaseName} with (force)`).catch(() => undefined);
    await nats?.stop().catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  };
  try {
    if (!serverUrl) {
      postgres = await startEmbeddedPostgres({
        dataDir,
        port: await freePort(),
        persistent: false,
        // Durable as `npm start`; the benchmark switches to `off` for its comparison itself.
        synchronousCommit: 'on',
        extraFlags: [
          '-c', 'shared_preload_libraries=pg_stat_statements',
          '-c', 'pg_stat_statements.track=all',
          // Planning is where unnamed statements spend much of their time: count it too.
          '-c', 'pg_stat_statements.track_planning=on',
          // BENCH_PG_FLAGS: more server flags for an investigation, e.g. auto_explain settings.
          ...(process.env.BENCH_PG_FLAGS?.split(' ').filter(Boolean) ?? []),
        ],
        // BENCH_PG_LOG: a file for the server's log (with BENCH_PG_FLAGS, e.g. auto_explain's plans).
        ...(process.env.BENCH_PG_LOG ? { onLog: (line: string) => appendFileSync(process.env.BENCH_PG_LOG!, `${line}\n`) } : {}),
      });
      serverUrl = postgres.url;
    }
    let authFile: string | undefined;
    if (!natsUrl && options.natsAuth !== false) {
      bus = await ensureBusCredentials(join(workDir, 'nats-auth'));
      authFile = await writeNatsServerConfig(join(bus.dir, 'nats-server.conf'), bus, { namespace: '' });
    }
    if (!natsUrl && natsNodes > 1) {
      const ports = await distinctFreePorts(2 * natsNodes);
      cluster = await startNatsCluster({
        ports: ports.slice(0, natsNodes),
        clusterPorts: ports.slice(natsNodes),
        dir: join(workDir, 'nats-cluster'),
        ...(bus && authFile ? { includes: [authFile], routeAuth: bus.route, adminSeed: bus.seed('admin') } : {}),
      });
      natsUrl = cluster.url;
    } else if (!natsUrl) {
      nats = await startNatsServer({ port: await freePort(), storeDir: natsDir, ...(authFile ? { extraArgs: ['-c', authFile] } : {}) });
      natsUrl = nats.url;
    }
    databaseName = `bench_distribution_${suffix}`;
    // The name is built from [a-z0-9_] only; database names cannot be bound parameters.
    await admin(serverUrl, `create database ${databaseName}`);
    if (postgres) {
      // The services log in as their own roles, as under `npm start`: the grants' cost is part of the measure.
      await ensureDatabaseRoles(serverUrl, (role) => localPassword(workDir, role));
      const target = new URL(serverUrl);
      target.pathname = `/${databaseName}`;
      await bootstrapDatabase(target.toString());
    }
  } catch (error) {
    await dispose();
    throw error;
  }
  const url = new URL(serverUrl);
  url.pathname = `/${databaseName}`;
  return {
    databaseUrl: url.toString(),
    databaseFor: (service): Record<string, string> => {
      const role = databaseRoleOf(service);
      if (!postgres || !role) return { DATABASE_URL: url.toString() };
      const as = new URL(url);
      as.username = role;
      as.password = '';
      return { DATABASE_URL: as.toString(), DATABASE_PASSWORD_FILE: passwordFileOf(workDir, role) };
    },
    serverUrl,
    ownPostgres: postgres !== undefined,
    natsUrl,
    namespace: nats || cluster ? '' : `bench_${suffix}`,
    origin: `${postgres ? 'embedded PostgreSQL' : 'DATABASE_URL'} + ${cluster ? `own ${natsNodes}-node nats-server cluster` : nats ? 'own nats-server' : 'NATS_URL'}`,
    postgresPid: async () => postgres?.pid(),
    natsPids: () => [nats?.pid(), ...(cluster?.nodes.map((n) => n.server.pid()) ?? [])].filter((p): p is number => p !== undefined),
    natsNodes: cluster ? natsNodes : 1,
    workDir,
    bus,
    dispose,
  };
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
