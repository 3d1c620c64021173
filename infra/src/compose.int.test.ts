import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// `docker compose config` needs the compose plugin, not a running engine. Where it is
// missing (as on the machine this was written on) the test says so and skips.
const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 15_000 });
const composeAvailable = probe.status === 0;
const reason = composeAvailable ? '' : ' (skipped: `docker compose version` does not answer here; install the Docker Compose plugin to run it)';

describe('docker-compose.yml with the Docker Compose CLI', () => {
  it.skipIf(!composeAvailable)(`is valid for \`docker compose config\`${reason}`, () => {
    const result = spawnSync('docker', ['compose', '-f', 'docker-compose.yml', 'config', '-q'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(result.stderr, result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
