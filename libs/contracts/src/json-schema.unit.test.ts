import { readdir, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { publishedJsonSchemas, renderJsonSchemaFile } from './json-schema';
import { LeadApprovedV1 } from './lead-approved';
import { VALID_LEAD } from './lead-approved.sample';

const committedDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'json-schema');

function validatorFor(name: string) {
  const published = publishedJsonSchemas().find((s) => s.name === name);
  if (!published) throw new Error(`no published schema ${name}`);
  const ajv = new Ajv2020({ allErrors: true }) // ajv's default strict mode, as a publisher would run it;
  addFormats(ajv);
  return ajv.compile(published.document);
}

describe('committed JSON Schema', () => {
  it('matches the zod schemas (run `npm run contracts:export` after changing a contract)', async () => {
    const expected = publishedJsonSchemas();
    expect(expected.length).toBeGreaterThan(0);
    for (const schema of expected) {
      const committed = await readFile(resolve(committedDir, schema.fileName), 'utf8').catch(() => undefined);
      expect(committed, `${schema.fileName} is missing or stale; run npm run contracts:export`).toBe(renderJsonSchemaFile(schema));
    }
  });

  it('holds no file of a schema that is no longer registered', async () => {
    const files = (await readdir(committedDir)).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(publishedJsonSchemas().map((s) => s.fileName).sort());
  });
});

describe('lead.approved v1 as JSON Schema (ajv, draft 2020-12)', () => {
  const validate = validatorFor('lead.approved');

  it('accepts the payload the zod schema accepts', () => {
    expect(LeadApprovedV1.safeParse(VALID_LEAD).success).toBe(true);
    expect(validate(VALID_LEAD), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['an unknown top-level key', { ...VALID_LEAD, extra: 1 }],
    ['a missing lead id', { ...VALID_LEAD, lead_id: undefined }],
    ['a lead id with a dot', { ...VALID_LEAD, lead_id: 'lead.42' }],
    ['another schema version', { ...VALID_LEAD, schema_version: 2 }],
    ['a time without offset', { ...VALID_LEAD, approved_at: '2025-03-14T09:26:53' }],
    ['a malformed email', { ...VALID_LEAD, consumer: { name: 'Ada', email: 'nope' } }],
    ['a consumer without email or phone', { ...VALID_LEAD, consumer: { name: 'Ada' } }],
    ['a three-letter state', { ...VALID_LEAD, location: { postal_code: '73301', state: 'TEX' } }],
  ])('rejects %s, as zod does', (_what, payload) => {
    const json = JSON.parse(JSON.stringify(payload)) as unknown;
    expect(LeadApprovedV1.safeParse(json).success).toBe(false);
    expect(validate(json)).toBe(false);
    expect(validate.errors?.length).toBeGreaterThan(0);
  });
});
