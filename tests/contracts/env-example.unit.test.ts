/**
 * .env.example is complete and true: it is what the configuration schemas make, every
 * variable has a description, the defaults it shows are the ones the services apply, and
 * `npm start` loads a .env only when there is one.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from '@fairlead/platform';
import { allConfigVariables, renderEnvExample, SERVICE_CONFIG_SCHEMAS } from './env-example';

const ROOT = resolve(import.meta.dirname, '../..');
const committed = () => readFileSync(join(ROOT, '.env.example'), 'utf8');
/** The file with every variable line uncommented, as a user who copies it and uncomments everything would have it. */
const uncommented = () => parseEnv(committed().replace(/^#([A-Z][A-Z0-9_]*=)/gm, '$1'));

describe('.env.example', () => {
  it('is what the configuration schemas make (run `npm run env:example` after changing one)', () => {
    expect(committed(), '.env.example is stale; run npm run env:example').toBe(renderEnvExample());
  });

  it('describes every variable any configuration schema reads', () => {
    const undescribed = allConfigVariables()
      .filter((v) => !v.description?.trim())
      .map((v) => v.name);
    expect(undescribed, 'add .describe("…") to these variables in their config schema').toEqual([]);
    const listed = Object.keys(uncommented());
    for (const schema of Object.values(SERVICE_CONFIG_SCHEMAS)) for (const v of describeConfig(schema)) expect(listed).toContain(v.name);
  });

  it('shows each default as the service applies it: the shown values load to the same configuration', () => {
    const required = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', NATS_URL: 'nats://127.0.0.1:4222' };
    for (const [service, schema] of Object.entries(SERVICE_CONFIG_SCHEMAS)) {
      // The defaults the schema shows (not placeholders such as <FAIRLEAD_DATA_DIR>/…) written out as text.
      const shown = Object.fromEntries(
        describeConfig(schema)
          .filter((v) => v.default !== undefined && !v.default.includes('<'))
          .map((v) => [v.name, v.default!]),
      );
      expect({ service, config: loadConfig(schema, { ...required, ...shown }) }).toEqual({ service, config: loadConfig(schema, required) });
    }
  });

  it('holds only variables some schema reads, each with a value its schema accepts', () => {
    const known = new Set(allConfigVariables().map((v) => v.name));
    const env = uncommented();
    expect(Object.keys(env).filter((name) => !known.has(name))).toEqual([]);
    // Every service starts from the whole file uncommented (plus what npm start gives it).
    const given = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', NATS_URL: 'nats://127.0.0.1:4222', SERVICE_NAME: 'x', JWT_SECRET_FILE: '/tmp/jwt' };
    for (const schema of Object.values(SERVICE_CONFIG_SCHEMAS)) expect(() => loadConfig(schema, { ...env, ...given })).not.toThrow();
  });
});

describe('npm start and npm run dev load .env', () => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

  it('with --env-file-if-exists=.env', () => {
    expect(scripts.start).toMatch(/^node --env-file-if-exists=\.env /);
    expect(scripts.dev).toMatch(/^node --env-file-if-exists=\.env /);
  });

  it('which this Node accepts: a missing file is skipped, a present one is read, and the environment wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fairlead-env-'));
    try {
      const print = ['-e', 'console.log(JSON.stringify([process.env.FAIRLEAD_A ?? null, process.env.FAIRLEAD_B ?? null]))'];
      const run = (file: string, env: Record<string, string> = {}) =>
        execFileSync(process.execPath, [`--env-file-if-exists=${file}`, ...print], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' }).trim();
      expect(run(join(dir, 'absent.env'))).toBe('[null,null]');
      writeFileSync(join(dir, '.env'), 'FAIRLEAD_A=from-file\nFAIRLEAD_B=from-file\n');
      expect(run(join(dir, '.env'), { FAIRLEAD_B: 'from-env' })).toBe('["from-file","from-env"]');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
