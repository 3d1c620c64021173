/**
 * A local nats-server cluster on loopback ports, JetStream on every node: what a
 * deployment that outgrew one machine runs, on one machine, for tests, benchmarks and
 * `FAIRLEAD_NATS_CLUSTER=3 npm start`. Streams declared with as many replicas as nodes
 * survive the loss of a node.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
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
}

/** The configuration file of one node (the client port, JetStream and the store come from the command line). */
export function clusterNodeConfig(node: ClusterNodeConfig): string {
  const lines = [
    '# Written by Fairlead (libs/local-servers/src/nats-cluster.ts) at every start; edits are lost.',
    `server_name: ${node.serverName}`,
    'cluster {',
    `  name: ${node.clusterName}`,
    `  listen: 127.0.0.1:${node.clusterPort}`,
    '  routes: [',
    ...node.peerPorts.map((p) => `    nats-route://127.0.0.1:${p}`),
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
      await writeFile(configFile, clusterNodeConfig({ serverName: name, clusterName, clusterPort: options.clusterPorts[i]!, peerPorts, ...(options.includes ? { includes: options.includes } : {}) }));
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
    await waitForJetStream(urls, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls, url: urls.join(','), nodes, stop };
}

/** Until the nodes have elected a JetStream meta leader, every JetStream request fails. */
export async function waitForJetStream(urls: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const nc = await connect({ servers: [...urls], timeout: 5_000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5_000, checkAPI: false });
    for (;;) {
      try {
        await jsm.getAccountInfo();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`the NATS cluster at ${urls.join(',')} has no JetStream after ${timeoutMs} ms`, { cause: error });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await nc.close();
  }
}
