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

export interface ServiceEntry {
  name: string;
  port: number;
  entrypoint: string;
}

/** Services of the repository that have a process entrypoint (services/<name>/src/main.ts). */
export function discoverServices(repoRoot: string): ServiceEntry[] {
  return Object.entries(SERVICE_PORTS)
    .map(([name, port]) => ({ name, port, entrypoint: resolve(repoRoot, 'services', name, 'src', 'main.ts') }))
    .filter((s) => existsSync(s.entrypoint));
}
