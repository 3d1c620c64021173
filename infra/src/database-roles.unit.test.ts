import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DATABASE_ROLES, databaseRoleOf, grantsMarkdown } from '@fairlead/local-servers';
import { SERVICE_PORTS } from './services';

describe('the grants table', () => {
  it('is what docs/security.md shows', async () => {
    const doc = await readFile(new URL('../../docs/security.md', import.meta.url), 'utf8');
    expect(doc).toContain(grantsMarkdown());
  });

  it('gives every service npm start runs a role of its own, and no two processes one role', () => {
    for (const service of Object.keys(SERVICE_PORTS)) expect(databaseRoleOf(service), service).toMatch(/^fairlead_/);
    expect(new Set(DATABASE_ROLES.map((r) => r.role)).size).toBe(DATABASE_ROLES.length);
    // A schema has one owner.
    const schemas = DATABASE_ROLES.flatMap((r) => r.schemas);
    expect(new Set(schemas).size).toBe(schemas.length);
    // Whatever a role reads belongs to another role.
    for (const r of DATABASE_ROLES) for (const s of r.reads) expect(schemas).toContain(s);
  });
});
