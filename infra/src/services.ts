import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

/** The Fairlead processes `npm start` runs, with the HTTP port each listens on by default. */
export const SERVICE_PORTS: Readonly<Record<string, number>> = Object.freeze({
  'operator-api': 7100,
  intake: 7101,
  rotation: 7102,
  fairness: 7103,
  billing: 7104,
  notification: 7105,
  'ticket-workflow': 7106,
  relay: 7107,
});

const DEFAULT_BASE = 7100;

/** The variable that moves one service's port: `FAIRLEAD_OPERATOR_API_PORT`, `FAIRLEAD_INTAKE_PORT`, … */
export const portVariable = (service: string): string => `FAIRLEAD_${service.toUpperCase().replaceAll('-', '_')}_PORT`;

const port = () => z.coerce.number({ error: 'expected a port number' }).int().min(1).max(65535);

/**
 * How `npm start` places the services' HTTP ports, so that two copies (or other tools) can
 * coexist: FAIRLEAD_HTTP_PORT_BASE moves them all (each keeps its offset in SERVICE_PORTS),
 * FAIRLEAD_<SERVICE>_PORT moves one. Part of npm start's configuration (start-config.ts).
 */
export const servicePortsSchema = z.object({
  FAIRLEAD_HTTP_PORT_BASE: port()
    .max(65535 - (Math.max(...Object.values(SERVICE_PORTS)) - DEFAULT_BASE))
    .default(DEFAULT_BASE)
    .describe(`first HTTP port of the services npm start runs; each keeps its offset (operator-api +0 … relay +${Math.max(...Object.values(SERVICE_PORTS)) - DEFAULT_BASE})`),
  ...Object.fromEntries(
    Object.keys(SERVICE_PORTS).map((service) => [portVariable(service), port().optional().describe(`HTTP port of ${service} (default: FAIRLEAD_HTTP_PORT_BASE + ${SERVICE_PORTS[service]! - DEFAULT_BASE})`)]),
  ),
});

/** Each service's HTTP port under `env`; throws when two services would share one. */
export function servicePorts(env: Readonly<Record<string, string | undefined>> = process.env): Record<string, number> {
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const config = servicePortsSchema.parse(given) as Record<string, number | undefined> & { FAIRLEAD_HTTP_PORT_BASE: number };
  const ports = Object.fromEntries(
    Object.entries(SERVICE_PORTS).map(([service, byDefault]) => [service, config[portVariable(service)] ?? config.FAIRLEAD_HTTP_PORT_BASE + (byDefault - DEFAULT_BASE)]),
  );
  const byPort = new Map<number, string>();
  for (const [service, p] of Object.entries(ports)) {
    const other = byPort.get(p);
    if (other) throw new Error(`${other} and ${service} would both listen on port ${p}; set ${portVariable(service)} or FAIRLEAD_HTTP_PORT_BASE`);
    byPort.set(p, service);
  }
  return ports;
}

/** Ports of the second replica of a service are 10 above the first's, and so on. */
export const REPLICA_PORT_STEP = 10;

export interface ServiceEntry {
  /** The service (its folder under services/). */
  name: string;
  /** The process: the service's name for the first replica, `<name>-<n>` for the n-th. */
  instance: string;
  /** 1 for the first replica. */
  replica: number;
  port: number;
  entrypoint: string;
}

export interface DiscoverOptions {
  /** Processes per service (default 1). */
  replicas?: number;
}

/**
 * Service processes of the repository that have an entrypoint (services/<name>/src/main.ts),
 * on their ports under `env` (servicePorts), replicas after the first ones.
 */
export function discoverServices(repoRoot: string, env: Readonly<Record<string, string | undefined>> = process.env, options: DiscoverOptions = {}): ServiceEntry[] {
  const replicas = options.replicas ?? 1;
  const found = Object.entries(servicePorts(env))
    .map(([name, port]) => ({ name, port, entrypoint: resolve(repoRoot, 'services', name, 'src', 'main.ts') }))
    .filter((s) => existsSync(s.entrypoint));
  const entries: ServiceEntry[] = [];
  for (let replica = 1; replica <= replicas; replica++) {
    for (const s of found) {
      entries.push({ ...s, replica, instance: replica === 1 ? s.name : `${s.name}-${replica}`, port: s.port + (replica - 1) * REPLICA_PORT_STEP });
    }
  }
  return entries;
}
