/**
 * `npm start`: local infrastructure (embedded PostgreSQL and nats-server under .data/,
 * unless DATABASE_URL / NATS_URL are set), then every Fairlead service as its own
 * process, supervised. Ctrl-C stops everything.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateSecretFile } from '@fairlead/platform';
import { startLocalInfrastructure } from './local';
import { startConfigSchema } from './start-config';
import { discoverServices } from './services';
import { Supervisor } from './supervisor';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const parsed = startConfigSchema.safeParse(process.env);
if (!parsed.success) {
  console.error(`invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  process.exit(2);
}
const config = Object.freeze(parsed.data);
const log = (line: string) => console.log(`fairlead         | ${line}`);

const infra = await startLocalInfrastructure({
  dataRoot: config.FAIRLEAD_DATA_DIR,
  databaseUrl: config.DATABASE_URL,
  natsUrl: config.NATS_URL,
  postgresPort: config.FAIRLEAD_PG_PORT,
  natsPort: config.FAIRLEAD_NATS_PORT,
  databaseName: 'fairlead',
  log,
});

// The agents' credential for ticket-workflow's /mcp: generated once (mode 0600), as the JWT development secret is.
const mcpTokenFile = resolve(config.FAIRLEAD_DATA_DIR, 'auth', 'mcp-token');
await loadOrCreateSecretFile(mcpTokenFile);

const services = discoverServices(repoRoot);
const supervisor = new Supervisor();
for (const service of services) {
  supervisor.start({
    name: service.name,
    command: process.execPath,
    args: [...(config.FAIRLEAD_WATCH ? ['--watch', '--watch-preserve-output'] : []), '--import', 'tsx', service.entrypoint],
    env: {
      ...process.env,
      DATABASE_URL: infra.databaseUrl,
      NATS_URL: infra.natsUrl,
      HTTP_PORT: String(service.port),
      SERVICE_NAME: service.name,
      LOG_LEVEL: config.LOG_LEVEL,
      MCP_TOKEN_FILE: mcpTokenFile,
    },
  });
}

log(`PostgreSQL  ${redact(infra.databaseUrl)}`);
log(`NATS        ${infra.natsUrl}`);
for (const service of services) log(`${service.name.padEnd(16)} http://127.0.0.1:${service.port}  (/healthz, /readyz)`);
log(`MCP token   ${mcpTokenFile}  (agents: Authorization: Bearer $(cat ${mcpTokenFile}))`);
log('Ctrl-C stops everything.');

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping services…`);
  await supervisor.stop();
  await infra.stop();
  log('stopped');
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
