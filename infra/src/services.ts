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

export interface ServiceEntry {
  name: string;
  port: number;
  entrypoint: string;
}

/** Services of the repository that have a process entrypoint (services/<name>/src/main.ts), on their ports under `env`. */
export function discoverServices(repoRoot: string, env: Readonly<Record<string, string | undefined>> = process.env): ServiceEntry[] {
  return Object.entries(servicePorts(env))
    .map(([name, port]) => ({ name, port, entrypoint: resolve(repoRoot, 'services', name, 'src', 'main.ts') }))
    .filter((s) => existsSync(s.entrypoint));
}
