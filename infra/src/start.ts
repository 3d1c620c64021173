/**
 * `npm start`: local infrastructure (embedded PostgreSQL and nats-server under .data/,
 * unless DATABASE_URL / NATS_URL are set), then every Fairlead service as its own
 * process, supervised: a service that exits is restarted, and so is a local server that
 * dies. It says when the whole system is ready and, until then, what it waits for.
 * Ctrl-C (SIGINT), SIGTERM or a closed terminal stops the services, then the servers.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateSecretFile } from '@fairlead/platform';
import { passwordsDir } from '@fairlead/local-servers';
import { natsDependency, postgresDependency, waitForDependencies } from './dependencies';
import { busIdentityOfService } from '@fairlead/local-servers';
import { startLocalInfrastructure, type LocalInfrastructure } from './local';
import { watchReadiness, type ReadinessWatch } from './readiness';
import { claimRunLock } from './run-lock';
import { discoverServices } from './services';
import { startConfigSchema } from './start-config';
import { stopLeftoverChildren, Supervisor } from './supervisor';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const parsed = startConfigSchema.safeParse(process.env);
if (!parsed.success) {
  console.error(`invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  process.exit(2);
}
const config = Object.freeze(parsed.data);
const log = (line: string) => console.log(`fairlead         | ${line}`);
const dataRoot = resolve(config.FAIRLEAD_DATA_DIR);

let lock: { release(): Promise<void> };
try {
  lock = await claimRunLock(resolve(dataRoot, 'run', 'npm-start.pid'));
} catch (error) {
  console.error(`fairlead         | ${(error as Error).message}`);
  process.exit(1);
}

// Ctrl-C at any moment (even while the servers start) stops what has started, in order.
const aborted = new AbortController();
let infra: LocalInfrastructure | undefined;
let infraStarting: Promise<LocalInfrastructure | undefined> = Promise.resolve(undefined);
let readiness: ReadinessWatch | undefined;
// A service that exits or logs a problem may have dropped out: readiness is probed at once, not at the next (10 s) round.
const supervisor = new Supervisor({ mark: dataRoot, onProblem: () => readiness?.probeSoon() });
let stopping = false;
const shutdown = async (signal: string, code = 0) => {
  if (stopping) return;
  stopping = true;
  aborted.abort();
  log(`${signal}: stopping services…`);
  readiness?.stop();
  await supervisor.stop();
  const servers = infra ?? (await infraStarting.catch(() => undefined));
  if (servers?.started.postgres || servers?.started.nats) log('stopping the local servers…');
  await servers?.stop();
  await lock.release();
  log('stopped');
  process.exit(code);
};
// npm passes the terminal's Ctrl-C on as well: a second signal is the same request.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));

try {
  await stopLeftoverChildren(dataRoot, log);
  const starting = startLocalInfrastructure({
    dataRoot,
    databaseUrl: config.DATABASE_URL,
    natsUrl: config.NATS_URL,
    postgresPort: config.FAIRLEAD_PG_PORT,
    natsPort: config.FAIRLEAD_NATS_PORT,
    natsNodes: config.FAIRLEAD_NATS_CLUSTER,
    databaseName: 'fairlead',
    natsNamespace: process.env.NATS_NAMESPACE,
    log,
  });
  infraStarting = starting;
  infra = await starting;
} catch (error) {
  // A clear reason, not a stack: what failed and, where we know, what to do.
  log(`could not start the local servers: ${(error as Error).message}`);
  await shutdown('start-up failed', 1);
}
const { databaseUrl, databaseFor, natsUrl, streamReplicas, bus } = infra!;

// The agents' credential for ticket-workflow's /mcp: generated once (mode 0600), as the JWT development secret is.
const mcpTokenFile = resolve(dataRoot, 'auth', 'mcp-token');
await loadOrCreateSecretFile(mcpTokenFile);
log(`PostgreSQL  ${redact(databaseUrl)}${infra!.started.postgres ? ` (each service as its own role; passwords in ${passwordsDir(dataRoot)})` : ''}`);
log(`NATS        ${natsUrl}${streamReplicas > 1 ? ` (streams with ${streamReplicas} replicas)` : ''}`);

const reachable = await waitForDependencies([postgresDependency(databaseUrl), natsDependency(natsUrl.split(','))], { log, signal: aborted.signal });
if (reachable && !stopping) {
  const services = discoverServices(repoRoot, process.env, { replicas: config.FAIRLEAD_REPLICAS });
  for (const service of services) {
    // Each service on the local bus as its own identity (its seed file, 0600); with NATS_URL the environment says.
    const identity = bus ? busIdentityOfService(service.name) : undefined;
    supervisor.start({
      name: service.instance,
      command: process.execPath,
      args: [...(config.FAIRLEAD_WATCH ? ['--watch', '--watch-preserve-output'] : []), '--import', 'tsx', service.entrypoint],
      env: {
        ...process.env,
        ...databaseFor(service.name),
        NATS_URL: natsUrl,
        NATS_STREAM_REPLICAS: process.env.NATS_STREAM_REPLICAS ?? String(streamReplicas),
        HTTP_PORT: String(service.port),
        SERVICE_NAME: service.name,
        LOG_LEVEL: config.LOG_LEVEL,
        MCP_TOKEN_FILE: mcpTokenFile,
        ...(bus && identity ? { NATS_NKEY_SEED_FILE: bus.seedFile(identity) } : {}),
      },
    });
  }
  for (const service of services) log(`${service.instance.padEnd(16)} http://127.0.0.1:${service.port}  (/healthz, /readyz)`);
  log(`MCP token   ${mcpTokenFile}  (agents: Authorization: Bearer $(cat ${mcpTokenFile}))`);
  if (bus) log(`NATS seeds  ${bus.dir}  (one per identity; upstream publishers use upstream.nk, see docs/security.md)`);
  log('Ctrl-C stops everything.');
  readiness = watchReadiness(
    services.map((s) => ({ name: s.instance, url: `http://127.0.0.1:${s.port}` })),
    { log, hint: (name) => supervisor.lastProblem(name) },
  );
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
