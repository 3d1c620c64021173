/**
 * The benchmark's PostgreSQL: DATABASE_URL when set, else an embedded server of its own
 * in a temporary directory. Either way a fresh database, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, startEmbeddedPostgres, type RunningPostgres } from '@fairlead/local-servers';

export interface BenchDatabase {
  url: string;
  /** Where the server came from, for the report. */
  origin: string;
  dispose(): Promise<void>;
}

export async function openBenchDatabase(): Promise<BenchDatabase> {
  let server: RunningPostgres | undefined;
  let root: string | undefined;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    root = await mkdtemp(join(tmpdir(), 'fairlead-bench-'));
    // PostgreSQL runs as its own system user when we are root; it must reach its data dir.
    await chmod(root, 0o755);
    server = await startEmbeddedPostgres({ dataDir: join(root, 'postgres'), port: await freePort(), persistent: false });
    serverUrl = server.url;
  }
  const name = `bench_store_${randomBytes(4).toString('hex')}`;
  // The name is built from [a-z0-9_] only; database names cannot be bound parameters.
  await admin(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    origin: server ? 'embedded PostgreSQL (started by the benchmark)' : 'DATABASE_URL',
    dispose: async () => {
      await admin(serverUrl, `drop database if exists ${name} with (force)`).catch(() => undefined);
      await server?.stop();
      if (root) await rm(root, { recursive: true, force: true });
    },
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
