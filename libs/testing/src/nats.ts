import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import './provided-context';
import { freePort, startNatsServer, type RunningNats } from '@fairlead/infra';

/** The NATS URL of this test run (its own nats-server, or NATS_URL). */
export function testNatsUrl(): string {
  return inject('natsUrl');
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
  const server = await startNatsServer({ port: await freePort(), storeDir: dir });
  return {
    ...server,
    dispose: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
