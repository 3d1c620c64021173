/**
 * A local nats-server cluster on loopback ports, JetStream on every node: what a
 * deployment that outgrew one machine runs, on one machine, for tests, benchmarks and
 * `FAIRLEAD_NATS_CLUSTER=3 npm start`. Streams declared with as many replicas as nodes
 * survive the loss of a node.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connectNats } from '@fairlead/messaging';
import { startNatsServer, type RunningNats } from './nats';

export interface ClusterNodeConfig {
  /** Unique per node (JetStream's placement names it). */
  serverName: string;
  clusterName: string;
  /** Where this node listens for its peers. */
  clusterPort: number;
  /** The other nodes' cluster ports. */
  peerPorts: readonly number[];
  /** Configuration files the node includes (e.g. an authorization block), relative to the node's file or absolute. */
  includes?: readonly string[];
  /** The user and password the nodes' routes authenticate with (none: routes are open). */
  routeAuth?: { user: string; password: string } | undefined;
}

/** The configuration file of one node (the client port, JetStream and the store come from the command line). */
export function clusterNodeConfig(node: ClusterNodeConfig): string {
  const auth = node.routeAuth;
  const lines = [
    '# Written by Fairlead (libs/local-servers/src/nats-cluster.ts) at every start; edits are lost.',
    `server_name: ${node.serverName}`,
    'cluster {',
    `  name: ${node.clusterName}`,
    `  listen: 127.0.0.1:${node.clusterPort}`,
    ...(auth ? ['  authorization {', `    user: ${JSON.stringify(auth.user)}`, `    password: ${JSON.stringify(auth.password)}`, '  }'] : []),
    '  routes: [',
    ...node.peerPorts.map((p) => `    nats-route://${auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.password)}@` : ''}127.0.0.1:${p}`),
    '  ]',
    '}',
    ...(node.includes ?? []).map((file) => `include ${JSON.stringify(file)}`),
  ];
  return `${lines.join('\n')}\n`;
}

export interface NatsClusterOptions {
  /** Client ports, one per node (its length is the cluster's size). */
  ports: readonly number[];
  /** Cluster (route) ports, one per node. */
  clusterPorts: readonly number[];
  /** Each node keeps its configuration and JetStream store under `<dir>/<node>`. */
  dir: string;
  clusterName?: string;
  includes?: readonly string[];
  /** Route credentials (see ClusterNodeConfig.routeAuth); the node files hold them, so they are written 0600. */
  routeAuth?: { user: string; password: string } | undefined;
  /** A seed allowed to read JetStream's account info (the admin identity), for servers with authorization. */
  adminSeed?: string | undefined;
  onLog?: (node: string, line: string) => void;
  /** A node exited without stop() or kill(). */
  onUnexpectedExit?: (node: string, description: string) => void;
  /** Longest wait for JetStream to elect its meta leader (default 60 s). */
  readyTimeoutMs?: number;
}

export interface RunningNatsCluster {
  /** Every node's client URL. */
  urls: string[];
  /** The URLs comma separated, as NATS_URL takes them. */
  url: string;
  nodes: { name: string; server: RunningNats }[];
  stop(): Promise<void>;
}

export async function startNatsCluster(options: NatsClusterOptions): Promise<RunningNatsCluster> {
  if (options.ports.length !== options.clusterPorts.length || options.ports.length < 1) throw new Error('startNatsCluster: one client and one cluster port per node');
  const names = options.ports.map((_, i) => `n${i + 1}`);
  const clusterName = options.clusterName ?? 'fairlead';
  const started = await Promise.allSettled(
    names.map(async (name, i) => {
      const dir = resolve(options.dir, name);
      await mkdir(dir, { recursive: true });
      const configFile = join(dir, 'node.conf');
      const peerPorts = options.clusterPorts.filter((_, j) => j !== i);
      // nats-server 2.9 resolves an include against the including file's directory, absolute or not.
      const includes = options.includes?.map((file) => (isAbsolute(file) ? relative(dir, file) : file));
      const text = clusterNodeConfig({ serverName: name, clusterName, clusterPort: options.clusterPorts[i]!, peerPorts, routeAuth: options.routeAuth, ...(includes ? { includes } : {}) });
      await writeFile(configFile, text, { mode: 0o600 });
      const server = await startNatsServer({
        port: options.ports[i]!,
        storeDir: join(dir, 'jetstream'),
        extraArgs: ['-c', configFile],
        ...(options.onLog ? { onLog: (line: string) => options.onLog!(name, line) } : {}),
        ...(options.onUnexpectedExit ? { onUnexpectedExit: (d: string) => options.onUnexpectedExit!(name, d) } : {}),
      });
      return { name, server };
    }),
  );
  const nodes = started.filter((s) => s.status === 'fulfilled').map((s) => (s as PromiseFulfilledResult<{ name: string; server: RunningNats }>).value);
  const stop = async () => void (await Promise.allSettled(nodes.map((n) => n.server.stop())));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const urls = nodes.map((n) => n.server.url);
  try {
    await waitForJetStream(urls, options.readyTimeoutMs ?? 60_000, options.adminSeed);
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls, url: urls.join(','), nodes, stop };
}

/**
 * Until the nodes have elected a JetStream meta leader, every JetStream request fails; and
 * for a while after, the leader may not yet count every node as a current peer, so a stream
 * with as many replicas as nodes is refused ("no suitable peers for placement"). Ready means
 * such a stream can be placed: a throwaway one (memory, one message) is created and deleted.
 */
export async function waitForJetStream(urls: readonly string[], timeoutMs: number, adminSeed?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // The nodes are up (each said "Server is ready"): the connection is quick; JetStream may not be yet.
  const nc = await connectNats({ servers: [...urls], name: 'fairlead-cluster-probe', credentials: { nkeySeed: adminSeed } });
  const probe = `FAIRLEAD_PLACEMENT_PROBE_${randomBytes(6).toString('hex')}`;
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5_000, checkAPI: false });
    for (;;) {
      try {
        await jsm.getAccountInfo();
        if (urls.length > 1) {
          await jsm.streams.add({ name: probe, subjects: [`_fairlead_probe.${probe}`], num_replicas: urls.length, storage: StorageType.Memory, max_msgs: 1 });
          await jsm.streams.delete(probe);
        }
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`the NATS cluster at ${urls.join(',')} cannot place a stream on all ${urls.length} nodes after ${timeoutMs} ms`, { cause: error });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await nc.close();
  }
}
