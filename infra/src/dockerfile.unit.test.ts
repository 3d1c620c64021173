/**
 * No container engine runs here, so the Dockerfile is kept right by reading it: a
 * multi-stage build whose npm ci layers depend on the manifests only, a runtime stage with
 * production dependencies, the built bundles and the files they read, run by plain node
 * as a non-root user.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMAGE_TOOLS } from './build/bundle';
import { discoverServices } from './services';

const ROOT = resolve(import.meta.dirname, '..', '..');
const text = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');

interface Stage {
  name: string;
  instructions: string[];
}

/** Instructions by stage, continuation lines joined, comments dropped. */
function stages(): Stage[] {
  const out: Stage[] = [];
  const lines = text.replace(/\\\n(\s*#[^\n]*\n)*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of lines) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from) out.push({ name: from[1]!, instructions: [] });
    else out.at(-1)?.instructions.push(line);
  }
  return out;
}

const stage = (name: string) => stages().find((s) => s.name === name)!;
const indexOf = (s: Stage, pattern: RegExp) => s.instructions.findIndex((i) => pattern.test(i));

describe('the Dockerfile', () => {
  it('installs from the manifests alone, before the sources are copied', () => {
    expect(stages().map((s) => s.name)).toEqual(['manifests', 'deps', 'build', 'prod-deps', 'runtime']);
    for (const name of ['deps', 'prod-deps']) {
      const s = stage(name);
      expect(s.instructions.some((i) => /^COPY \. /.test(i))).toBe(false);
      expect(indexOf(s, /^COPY --from=manifests /)).toBeLessThan(indexOf(s, /npm ci/));
    }
    expect(stage('manifests').instructions.join('\n')).toMatch(/cp package-lock\.json/);
  });

  it('builds the bundles and installs production dependencies only for the runtime', () => {
    expect(stage('build').instructions).toContain('RUN npm run build');
    expect(stage('prod-deps').instructions.join('\n')).toMatch(/npm ci --omit=dev/);
    const runtime = stage('runtime').instructions;
    expect(runtime).toContain('COPY --from=prod-deps /app/ ./');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    expect(runtime.join('\n')).not.toMatch(/tsx|npm ci(?! --omit=dev)/);
  });

  it('copies every runtime file it names from a folder that exists', () => {
    for (const line of stage('runtime').instructions.filter((i) => /^COPY --from=build \/app\/services\//.test(i))) {
      const path = line.split(/\s+/)[2]!.replace('/app/', '');
      expect(existsSync(resolve(ROOT, path)), path).toBe(true);
    }
  });

  it('runs as the non-root node user, with plain node, for every service', () => {
    const runtime = stage('runtime').instructions;
    expect(runtime).toContain('USER node');
    expect(runtime.some((i) => /^USER\s+root/.test(i))).toBe(false);
    const cmd = runtime.find((i) => i.startsWith('CMD'))!;
    expect(cmd).toMatch(/^CMD \["node"/);
    for (const service of discoverServices(ROOT, {})) expect(cmd).toContain(service.name);
  });

  it("puts the operator's CLI on the PATH as `fairlead`: a script that runs the CLI's bundle with plain node", () => {
    const runtime = stage('runtime').instructions;
    const workdir = runtime.find((i) => i.startsWith('WORKDIR '))!.split(/\s+/)[1]!;
    const install = runtime.find((i) => i.includes('/usr/local/bin/fairlead'))!;
    expect(install, 'run as root, before USER node').toBeDefined();
    expect(runtime.indexOf(install)).toBeLessThan(runtime.indexOf('USER node'));
    // The instruction's own shell command, run here with the script written to a folder of the test's.
    const dir = mkdtempSync(join(tmpdir(), 'fairlead-dockerfile-'));
    try {
      execFileSync('sh', ['-c', install.replace(/^RUN\s+/, '').replaceAll('/usr/local/bin/fairlead', join(dir, 'fairlead'))]);
      const script = readFileSync(join(dir, 'fairlead'), 'utf8');
      // npm run build bundles the CLI as the image tool `fairlead` into dist/fairlead/main.js.
      expect(IMAGE_TOOLS.fairlead).toBe('cli/src/main.ts');
      expect(script).toBe(`#!/bin/sh\nexec node --enable-source-maps ${workdir}/dist/fairlead/main.js "$@"\n`);
      expect(statSync(join(dir, 'fairlead')).mode & 0o777).toBe(0o755);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
