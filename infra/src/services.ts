import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The Fairlead processes `npm start` runs, with the HTTP port each listens on. */
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

/** The first port of SERVICE_PORTS; FAIRLEAD_PORT_BASE moves them all. */
export const DEFAULT_PORT_BASE = 7100;

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
  /** Port of the first service (default 7100); the others keep their distance from it. */
  portBase?: number;
}

/** Service processes of the repository that have an entrypoint (services/<name>/src/main.ts), replicas after the first ones. */
export function discoverServices(repoRoot: string, options: DiscoverOptions = {}): ServiceEntry[] {
  const replicas = options.replicas ?? 1;
  const shift = (options.portBase ?? DEFAULT_PORT_BASE) - DEFAULT_PORT_BASE;
  const found = Object.entries(SERVICE_PORTS)
    .map(([name, port]) => ({ name, port: port + shift, entrypoint: resolve(repoRoot, 'services', name, 'src', 'main.ts') }))
    .filter((s) => existsSync(s.entrypoint));
  const entries: ServiceEntry[] = [];
  for (let replica = 1; replica <= replicas; replica++) {
    for (const s of found) {
      entries.push({ ...s, replica, instance: replica === 1 ? s.name : `${s.name}-${replica}`, port: s.port + (replica - 1) * REPLICA_PORT_STEP });
    }
  }
  return entries;
}
