/**
 * The local three-node NATS cluster of the test helper: JetStream on every node, streams
 * with three replicas, and a node killed with SIGKILL loses nothing — publishing and
 * consuming go on through the other two, and the node catches up when it is back.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declareStreams, fairleadStreams } from '@fairlead/messaging';
import { subjectsFor } from '@fairlead/contracts';
import { startPrivateNatsCluster, testNatsConnection } from './nats';

let cluster: Awaited<ReturnType<typeof startPrivateNatsCluster>>;
beforeAll(async () => {
  cluster = await startPrivateNatsCluster(3);
});
afterAll(async () => {
  await cluster?.dispose();
});

describe('startPrivateNatsCluster', () => {
  it('runs three nodes whose replicated streams survive a node killed with SIGKILL', async () => {
    expect(cluster.urls).toHaveLength(3);
    const nc = await testNatsConnection({ identity: 'admin', servers: cluster.url });
    try {
      const jsm = await jetstreamManager(nc);
      const subjects = subjectsFor('cluster_test');
      await declareStreams(jsm, fairleadStreams(subjects, { replicas: 3 }));
      const info = await jsm.streams.info(subjects.streams.leadIntake);
      expect(info.config.num_replicas).toBe(3);
      expect(info.cluster?.replicas).toHaveLength(2);

      const js = jetstream(nc);
      for (let i = 0; i < 10; i++) await js.publish(subjects.leadApproved, `before-${i}`);
      // Kill the node that leads the stream: the worst case (a new leader must be elected).
      const leader = info.cluster!.leader!;
      const node = cluster.nodes.find((n) => n.name === leader)!;
      await node.server.kill();
      for (let i = 0; i < 10; i++) await publishWithRetry(() => js.publish(subjects.leadApproved, `during-${i}`));
      await node.server.restart();

      await expect.poll(async () => (await jsm.streams.info(subjects.streams.leadIntake)).state.messages, { timeout: 60_000 }).toBe(20);
      const after = await jsm.streams.info(subjects.streams.leadIntake);
      expect(after.cluster?.leader).toBeDefined();
      await expect
        .poll(async () => (await jsm.streams.info(subjects.streams.leadIntake)).cluster?.replicas?.every((r) => r.current), { timeout: 60_000 })
        .toBe(true);
    } finally {
      await nc.close();
    }
  });
});

/** While a new stream leader is elected a publish can time out; an upstream publisher retries (same msgID would dedupe). */
async function publishWithRetry(publish: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await publish();
      return;
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
