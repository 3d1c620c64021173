/**
 * The production build as the image runs it: services bundled by `npm run build`'s code,
 * started with plain `node` (no tsx), against the real PostgreSQL and NATS. The bundles
 * import nothing but production dependencies (what `npm ci --omit=dev` installs), and
 * files found relative to the sources (the notification templates) are still found.
 * The operator's `fairlead` command is bundled too (dist/fairlead/main.js) and run from a
 * folder that holds only its bundle and the packages the image installs.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverServices } from '@fairlead/infra';
import { bundleImageTool, bundleService, imagePackages, productionPackages, type BundleResult } from '@fairlead/infra/build';
import { freePort } from '@fairlead/local-servers';
import { mintToken } from '@fairlead/platform';
import { createTestDatabase, startServiceProcesses, testNamespace, testNatsUrl, type ServiceProcess, type TestDatabase } from '@fairlead/testing';

const ROOT = resolve(import.meta.dirname, '../..');
// Inside the repository, so that the bundles find node_modules as dist/ does.
const OUT = resolve(ROOT, '.data', `dist-test-${process.pid}`);
const SERVICES = ['operator-api', 'notification'];
/** Every service under services/: the image installs their production dependencies, and only those. */
const ALL_SERVICES = discoverServices(ROOT, {}).map((s) => s.name);
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

describe('the fairlead command in the production build', () => {
  let cli: BundleResult;
  /** Like the image's /app: package.json ("type": "module"), dist/fairlead/, node_modules with only the image's packages. */
  let image: string;

  beforeAll(async () => {
    cli = await bundleImageTool(ROOT, 'fairlead', OUT);
    image = await mkdtemp(join(tmpdir(), 'fairlead-image-'));
    await writeFile(join(image, 'package.json'), JSON.stringify({ type: 'module' }));
    await mkdir(join(image, 'dist', 'fairlead'), { recursive: true });
    for (const file of ['main.js', 'main.js.map']) await copyFile(join(dirname(cli.file), file), join(image, 'dist', 'fairlead', file));
    // Each package the image installs, as a link to the installed one (whose own dependencies resolve where it really is).
    for (const name of await imagePackages(ROOT, ALL_SERVICES)) {
      await mkdir(dirname(join(image, 'node_modules', name)), { recursive: true });
      await symlink(join(ROOT, 'node_modules', name), join(image, 'node_modules', name), 'dir');
    }
  });
  afterAll(async () => {
    if (image) await rm(image, { recursive: true, force: true });
  });

  /** `fairlead <args>` as the image's PATH script runs it: plain node on the bundle, in /app, with exactly this environment. */
  const fairlead = (args: readonly string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveRun) => {
      const child = execFile(process.execPath, ['--enable-source-maps', join(image, 'dist', 'fairlead', 'main.js'), ...args], { cwd: image, env: { PATH: process.env.PATH ?? '', HOME: image, ...env }, timeout: 120_000 }, (_error, stdout, stderr) =>
        resolveRun({ code: child.exitCode, stdout, stderr }),
      );
    });

  it('imports only packages the image installs (commander is bundled in), never a dev tool or the sources', async () => {
    const installed = await imagePackages(ROOT, ALL_SERVICES);
    expect(cli.externals.filter((p) => !installed.has(p))).toEqual([]);
    expect(cli.externals).not.toContain('commander');
    expect(cli.externals.some((p) => p === 'tsx' || p.startsWith('@fairlead/'))).toBe(false);
  });

  it('answers --help and --version under plain node, away from the repository', async () => {
    const help = await fairlead(['--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: fairlead /);
    expect(help.stdout).toContain('Exit codes:');
    const replayHelp = await fairlead(['replay', '--help']);
    expect(replayHelp.code, replayHelp.stderr).toBe(0);
    expect(replayHelp.stdout).toContain('Usage: fairlead replay');
    const version = await fairlead(['--version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("verifies the read models the operator API bundle set up, as the operator CLI's own role (exit 0)", async () => {
    const run = await fairlead(['verify'], db.serviceEnv('fairlead_operator_cli'));
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/verify: \d+ tables identical/);
  }, 120_000);

  it('refuses a bad command line (exit 2) and an unreachable database (exit 3) with one line each', async () => {
    const usage = await fairlead(['replay', 'all', '--until', '5']);
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim().split('\n')).toHaveLength(1);
    const port = await freePort();
    const down = await fairlead(['verify'], { DATABASE_URL: `postgres://fairlead_operator_cli:secret@127.0.0.1:${port}/fairlead` });
    expect(down.code).toBe(3);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).toContain('cannot reach PostgreSQL');
    expect(down.stderr).not.toContain('secret');
  }, 60_000);
});

