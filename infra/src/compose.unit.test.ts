/**
 * docker-compose.yml cannot be run here (no container engine), so it is kept correct by
 * reading it: references resolve, every service is built or pulled, the commands name
 * real entrypoints, and ports agree with `npm start` (SERVICE_PORTS).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SERVICE_PORTS } from './services';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Services that docker-compose.yml already lists but whose code lands in later issues.
 * Remove a name once services/<name>/src/main.ts exists.
 */
const PLANNED = new Set(['intake', 'rotation', 'fairness', 'billing', 'notification', 'ticket-workflow', 'operator-api', 'relay']);

interface ComposeService {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test: string | string[]; disable?: boolean };
  ports?: string[];
  volumes?: string[];
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readFileSync(resolve(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
const services = Object.entries(compose.services);
const built = services.filter(([, s]) => s.build !== undefined);

function envOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
  return Object.fromEntries(env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

function dependenciesOf(service: ComposeService): Record<string, string | undefined> {
  const deps = service.depends_on ?? [];
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition]));
}

function commandOf(service: ComposeService): string[] {
  const command = service.command ?? [];
  return Array.isArray(command) ? command : command.split(/\s+/);
}

describe('docker-compose.yml', () => {
  it('has the infrastructure: NATS, PostgreSQL 16, EventStoreDB and a mail catcher', () => {
    expect(compose.services.nats?.image).toMatch(/^nats:2\.10/);
    expect(compose.services.postgres?.image).toMatch(/^postgres:16/);
    expect(compose.services.eventstore?.image).toMatch(/^eventstore\/eventstore:/);
    expect(compose.services.mailpit?.image).toMatch(/^axllent\/mailpit:/);
    expect(compose.services.mailpit?.ports).toEqual(expect.arrayContaining(['1025:1025', '8025:8025']));
  });

  it('gives every service an image or a build', () => {
    for (const [name, service] of services) {
      expect(service.image !== undefined || service.build !== undefined, `${name} has neither image nor build`).toBe(true);
    }
  });

  it('enables JetStream on NATS, with its store on a volume', () => {
    const nats = compose.services.nats!;
    const command = commandOf(nats);
    expect(command.includes('-js') || command.includes('--jetstream')).toBe(true);
    const storeDir = command[command.indexOf('-sd') + 1];
    expect(storeDir).toBeDefined();
    expect(nats.volumes?.some((v) => v.endsWith(`:${storeDir}`))).toBe(true);
  });

  it('runs EventStoreDB insecure (dev) with projections off', () => {
    const env = envOf(compose.services.eventstore!);
    expect(env.EVENTSTORE_INSECURE).toBe('true');
    expect(env.EVENTSTORE_RUN_PROJECTIONS).toBe('None');
    expect(env.EVENTSTORE_START_STANDARD_PROJECTIONS).toBe('false');
  });

  it('points depends_on only at services that exist, and waits for health only where there is a healthcheck', () => {
    for (const [name, service] of services) {
      for (const [target, condition] of Object.entries(dependenciesOf(service))) {
        expect(compose.services[target], `${name} depends on unknown service ${target}`).toBeDefined();
        if (condition === 'service_healthy') expect(compose.services[target]?.healthcheck, `${target} has no healthcheck`).toBeDefined();
      }
    }
  });

  it('has a healthcheck on every service', () => {
    for (const [name, service] of services) {
      expect(service.healthcheck?.test, `${name} has no healthcheck`).toBeDefined();
      expect(service.healthcheck?.disable).not.toBe(true);
    }
  });

  it('builds every Fairlead service from the one root Dockerfile, one image', () => {
    expect(built.length).toBeGreaterThan(0);
    for (const [name, service] of built) {
      const build = typeof service.build === 'string' ? { context: service.build } : service.build!;
      expect(build.context, name).toBe('.');
      expect(build.dockerfile ?? 'Dockerfile', name).toBe('Dockerfile');
      expect(service.image, name).toBe('fairlead:local');
    }
    // The Dockerfile's own shape (stages, npm ci, non-root) is checked by dockerfile.unit.test.ts.
    expect(existsSync(resolve(repoRoot, 'Dockerfile'))).toBe(true);
    const ignored = readFileSync(resolve(repoRoot, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '.data', '.git']));
  });

  it('runs each built service from services/<name>/src/main.ts, which exists or is planned', () => {
    for (const [name, service] of built) {
      const entrypoint = `services/${name}/src/main.ts`;
      expect(commandOf(service), name).toEqual(['npx', 'tsx', entrypoint]);
      const exists = existsSync(resolve(repoRoot, entrypoint));
      expect(exists || PLANNED.has(name), `${entrypoint} does not exist and ${name} is not planned`).toBe(true);
    }
  });

  it('lists every service `npm start` knows, on the same port, and nothing else', () => {
    expect(built.map(([name]) => name).sort()).toEqual(Object.keys(SERVICE_PORTS).sort());
    for (const [name, service] of built) {
      const port = SERVICE_PORTS[name];
      const env = envOf(service);
      expect(env.SERVICE_NAME, name).toBe(name);
      expect(env.HTTP_PORT, name).toBe(String(port));
      expect(env.HTTP_HOST, name).toBe('0.0.0.0');
      expect(service.ports, name).toContain(`${port}:${port}`);
    }
  });

  it('points DATABASE_URL, NATS_URL, SMTP_URL and EVENTSTORE_URL at compose services', () => {
    const expectations: Array<[string, string]> = [
      ['DATABASE_URL', 'postgres'],
      ['NATS_URL', 'nats'],
      ['SMTP_URL', 'mailpit'],
      ['EVENTSTORE_URL', 'eventstore'],
    ];
    for (const [name, service] of built) {
      const env = envOf(service);
      for (const [variable, host] of expectations) {
        expect(env[variable], `${name} ${variable}`).toBeDefined();
        expect(new URL(env[variable]!).hostname, `${name} ${variable}`).toBe(host);
      }
      const deps = dependenciesOf(service);
      expect(deps.postgres, name).toBe('service_healthy');
      expect(deps.nats, name).toBe('service_healthy');
    }
    expect(dependenciesOf(compose.services.notification!).mailpit).toBe('service_healthy');
  });

  it('declares every named volume it mounts', () => {
    for (const [name, service] of services) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.') || source.startsWith('/')) continue;
        expect(compose.volumes ?? {}, `${name} mounts undeclared volume ${source}`).toHaveProperty(source);
      }
    }
  });
});
