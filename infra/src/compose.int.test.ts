/**
 * docker-compose.yml as the Docker Compose CLI reads it, where the plugin is installed:
 * valid with an environment file as `npm run compose:env` writes it, refused without one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fillComposeEnv } from './deploy/compose-env';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// `docker compose config` needs the compose plugin, not a running engine. Where it is
// missing (as on the machine this was written on) the test says so and skips.
const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 15_000 });
const composeAvailable = probe.status === 0;
const reason = composeAvailable ? '' : ' (skipped: `docker compose version` does not answer here; install the Docker Compose plugin to run it)';

const dir = mkdtempSync(join(tmpdir(), 'fairlead-compose-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (...envFile: string[]) =>
  spawnSync('docker', ['compose', ...envFile, '-f', 'docker-compose.yml', 'config', '-q'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
    // Only PATH and HOME: a secret exported in the shell running the tests must not fill the file's gaps.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
  });

describe('docker-compose.yml with the Docker Compose CLI', () => {
  it.skipIf(!composeAvailable)(`is valid for \`docker compose config\` with a filled deploy/compose.env${reason}`, () => {
    const envFile = join(dir, 'compose.env');
    writeFileSync(envFile, fillComposeEnv(readFileSync(resolve(repoRoot, 'deploy/compose.env.example'), 'utf8')), { mode: 0o600 });
    const result = config('--env-file', envFile);
    expect(result.stderr, result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it.skipIf(!composeAvailable)(`is refused without the secrets, naming one${reason}`, () => {
    const result = config('--env-file', resolve(repoRoot, 'deploy/compose.env.example'));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/POSTGRES_PASSWORD|JWT_SECRET|UPSTREAM_API_KEYS|MCP_TOKEN|GRAFANA_ADMIN_PASSWORD/);
  });
});
