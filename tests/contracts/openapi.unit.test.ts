/**
 * The services' OpenAPI documents (exported without starting them) lint clean with
 * Spectral's OpenAPI ruleset (.spectral.yaml), and say what the services do on the wire:
 * operation ids, problem+json errors, If-Match required where a missing one answers 428,
 * ETag on the answers that carry a version.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocuments, SERVICES_WITH_OPENAPI, type OpenApiDocument } from './openapi-documents';

const ROOT = resolve(import.meta.dirname, '../..');
const SPECTRAL = join(ROOT, 'node_modules/.bin/spectral');

interface Operation {
  operationId?: string;
  parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
}

let docs: Record<string, OpenApiDocument>;
let dir: string;

beforeAll(async () => {
  docs = await openApiDocuments();
  dir = mkdtempSync(join(tmpdir(), 'fairlead-openapi-'));
  for (const [service, doc] of Object.entries(docs)) writeFileSync(join(dir, `${service}.json`), JSON.stringify(doc, null, 2));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function operations(doc: OpenApiDocument): [string, Operation][] {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]): [string, Operation] => [`${method.toUpperCase()} ${path}`, op as unknown as Operation]));
}

describe('the OpenAPI documents', () => {
  it('exist for every service with an HTTP API, each naming a server', () => {
    expect(Object.keys(docs).sort()).toEqual([...SERVICES_WITH_OPENAPI].sort());
    expect(SERVICES_WITH_OPENAPI).toEqual(expect.arrayContaining(['operator-api', 'ticket-workflow', 'intake', 'notification']));
    for (const doc of Object.values(docs)) expect((doc.servers as unknown[]).length).toBeGreaterThan(0);
  });

  it('lint clean with Spectral (no error, warning, info or hint)', async () => {
    const files = SERVICES_WITH_OPENAPI.map((s) => join(dir, `${s}.json`));
    const run = promisify(execFile);
    // Exit code 1 means "problems found": read the JSON report either way.
    const { stdout } = await run(SPECTRAL, ['lint', ...files, '--ruleset', join(ROOT, '.spectral.yaml'), '--format', 'json', '--fail-severity', 'hint', '--quiet'], { cwd: ROOT }).catch(
      (error: { stdout?: string; stderr?: string }) => {
        if (!error.stdout) throw new Error(`spectral failed: ${error.stderr ?? String(error)}`);
        return { stdout: error.stdout };
      },
    );
    const results = JSON.parse(stdout || '[]') as { code: string; message: string; path: string[]; source: string }[];
    const problems = results.map((r) => `${r.source.replace(`${dir}/`, '')} ${r.path.join('.')}: ${r.code} — ${r.message}`);
    expect(problems).toEqual([]);
  });

  it('give every operation an operationId, unique in its document', () => {
    for (const [service, doc] of Object.entries(docs)) {
      const ids = operations(doc).map(([key, op]) => op.operationId ?? `(none: ${service} ${key})`);
      expect(ids.filter((id) => id.startsWith('(none'))).toEqual([]);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('declare every error answer as application/problem+json, as sendProblem sends it', () => {
    const wrong: string[] = [];
    for (const [service, doc] of Object.entries(docs)) {
      for (const [key, op] of operations(doc)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (!/^[45]/.test(status) || !response.content) continue;
          const types = Object.keys(response.content);
          if (types.join() !== 'application/problem+json') wrong.push(`${service} ${key} ${status}: ${types.join(', ')}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('require If-Match on every operation that answers 428 without it, and document ETag where a version comes back', () => {
    const ops = operations(docs['operator-api']!);
    const conditional = ops.filter(([, op]) => op.responses['428']);
    expect(conditional.length).toBeGreaterThanOrEqual(6);
    for (const [key, op] of conditional) {
      const ifMatch = op.parameters?.find((p) => p.in === 'header' && p.name.toLowerCase() === 'if-match');
      expect({ key, required: ifMatch?.required }).toEqual({ key, required: true });
      expect({ key, etag: Object.keys(op.responses['200']?.headers ?? {}) }).toEqual({ key, etag: ['ETag'] });
    }
    // Where a client reads the ETag it must send back.
    for (const read of ['GET /api/v1/admin/niches/{id}', 'GET /api/v1/admin/providers/{id}', 'GET /api/v1/admin/subscriptions/{id}', 'GET /api/v1/admin/providers/{id}/wallet']) {
      const op = ops.find(([key]) => key === read)?.[1];
      expect({ read, etag: Object.keys(op?.responses['200']?.headers ?? {}) }).toEqual({ read, etag: ['ETag'] });
    }
  });
});
