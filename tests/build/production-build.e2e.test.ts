/**
 * The production build as the image runs it: services bundled by `npm run build`'s code,
 * started with plain `node` (no tsx), against the real PostgreSQL and NATS. The bundles
 * import nothing but production dependencies (what `npm ci --omit=dev` installs), and
 * files found relative to the sources (the notification templates) are still found.
 */
import { rm } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleService, productionPackages, type BundleResult } from '@fairlead/infra/build';
import { mintToken } from '@fairlead/platform';
import { createTestDatabase, startServiceProcesses, testNamespace, testNatsUrl, type ServiceProcess, type TestDatabase } from '@fairlead/testing';

const ROOT = resolve(import.meta.dirname, '../..');
// Inside the repository, so that the bundles find node_modules as dist/ does.
const OUT = resolve(ROOT, '.data', `dist-test-${process.pid}`);
const SERVICES = ['operator-api', 'notification'];
const JWT_SECRET = 'a-production-secret-of-at-least-32-chars';

let db: TestDatabase;
let bundles: BundleResult[];
let processes: ServiceProcess[] = [];

beforeAll(async () => {
  bundles = await Promise.all(SERVICES.map((s) => bundleService(ROOT, s, OUT)));
  db = await createTestDatabase('production_build');
  const env = { DATABASE_URL: db.url, NATS_URL: testNatsUrl(), NATS_NAMESPACE: testNamespace('build'), NODE_ENV: 'production', JWT_SECRET };
  processes = await startServiceProcesses(
    bundles.map((b) => ({ service: relative(ROOT, b.file), nodeArgs: ['--enable-source-maps'], env: { ...env, SERVICE_NAME: b.service }, readyTimeoutMs: 60_000 })),
  );
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await db?.drop();
  await rm(OUT, { recursive: true, force: true });
});

describe('the production build', () => {
  it('imports only production dependencies of the service and its libraries, never a dev tool', async () => {
    for (const bundle of bundles) {
      const production = await productionPackages(ROOT, bundle.service);
      expect({ service: bundle.service, notInstalled: bundle.externals.filter((p) => !production.has(p)) }).toEqual({ service: bundle.service, notInstalled: [] });
      expect(bundle.externals).not.toContain('tsx');
      expect(bundle.externals.some((p) => p.startsWith('@fairlead/'))).toBe(false);
    }
  });

  it('runs under plain node: health, readiness and the OpenAPI document with its UI', async () => {
    for (const p of processes) {
      const health = await fetch(`http://127.0.0.1:${p.port}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok', service: p.name.split('/').at(-2) });
      const doc = (await (await fetch(`http://127.0.0.1:${p.port}/docs/json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths)).toContain('/readyz');
      // @fastify/swagger-ui serves its files from its own package folder: kept external, it still finds them.
      const ui = await fetch(`http://127.0.0.1:${p.port}/docs/static/index.html`);
      expect(ui.status).toBe(200);
    }
  });

  it('finds the files its sources locate from their own path (the shipped email templates)', async () => {
    const notification = processes.find((p) => p.name.includes('notification'))!;
    // The service loads its templates at start-up and would not be ready without them; its mail catcher answers too.
    const token = await mintToken({ secret: JWT_SECRET, issuer: 'fairlead', audience: 'fairlead-operator-api', sub: 'build-test', roles: ['viewer'], mfa: false, ttlSec: 600 });
    const res = await fetch(`http://127.0.0.1:${notification.port}/v1/mail`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(notification.output()).not.toMatch(/ENOENT|template/i);
  });
});
