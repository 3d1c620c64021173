import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import './provided-context';
import { readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/nats-core';
import type { BusIdentity } from '@fairlead/contracts';
import { freePort, startNatsCluster, startNatsServer, type RunningNats, type RunningNatsCluster } from '@fairlead/local-servers';
import { connectNats } from '@fairlead/messaging';

/** The NATS URL of this test run (its own nats-server, or NATS_URL). */
export function testNatsUrl(): string {
  return inject('natsUrl');
}

/** The seed file of a bus identity in this test run (what NATS_NKEY_SEED_FILE names). */
export function testSeedFile(identity: BusIdentity): string {
  return join(inject('natsCredentialsDir'), `${identity}.nk`);
}

/** The seed of a bus identity in this test run. */
export function testSeed(identity: BusIdentity): string {
  return readFileSync(testSeedFile(identity), 'utf8').trim();
}

/**
 * A connection to the test server as one bus identity (admin, the default of test code,
 * may do anything; the others only what libs/contracts' permission table grants).
 */
export async function testNatsConnection(options: { identity: BusIdentity; name?: string; servers?: string }): Promise<NatsConnection> {
  return connectNats({
    servers: (options.servers ?? testNatsUrl()).split(','),
    name: options.name ?? `test-${options.identity}`,
    reconnectTimeWaitMs: 100,
    credentials: { nkeySeed: testSeed(options.identity) },
  });
}

/**
 * A unique prefix for stream, consumer and subject names of one test file, so files
 * share a server without seeing each other's messages.
 */
export function testNamespace(label = 't'): string {
  return `${label.replace(/[^a-zA-Z0-9]/g, '_')}_${randomBytes(4).toString('hex')}`;
}

/**
 * A nats-server owned by one test, for tests that stop, kill or restart the server.
 */
export async function startPrivateNats(): Promise<RunningNats & { dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fairlead-nats-'));
  // Authorized as the shared test server is (same identities), so test code connects the same way.
  const server = await startNatsServer({ port: await freePort(), storeDir: dir, extraArgs: ['-c', inject('natsServerConfig')] });
  return {
    ...server,
    dispose: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A local nats-server cluster owned by one test (loopback ports, JetStream on every node),
 * for tests of replicated streams and of a node that dies. Declare streams with
 * `replicas: nodes` to have them survive the loss of a node.
 */
export async function startPrivateNatsCluster(nodes = 3): Promise<RunningNatsCluster & { dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fairlead-nats-cluster-'));
  const ports: number[] = [];
  const clusterPorts: number[] = [];
  // Distinct ports: freePort() may hand out the same port twice before anything binds it.
  while (ports.length < nodes || clusterPorts.length < nodes) {
    const port = await freePort();
    if (ports.includes(port) || clusterPorts.includes(port)) continue;
    if (ports.length < nodes) ports.push(port);
    else clusterPorts.push(port);
  }
  try {
    const cluster = await startNatsCluster({
      ports,
      clusterPorts,
      dir,
      includes: [inject('natsServerConfig')],
      routeAuth: { user: 'fairlead-route', password: readFileSync(join(inject('natsCredentialsDir'), 'route-password'), 'utf8').trim() },
      adminSeed: testSeed('admin'),
    });
    return {
      ...cluster,
      dispose: async () => {
        await cluster.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
