import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPERATIONS } from './operations';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('the operations', () => {
  it('are documented in the README, each with its REST route, access level and an example that parses as its input', () => {
    for (const op of OPERATIONS) {
      const heading = `### \`${op.name}\` — \`${op.rest.method} /v1${op.rest.path}\` (${op.access})`;
      const at = readme.indexOf(heading);
      expect(at, `${op.name}: ${heading}`).toBeGreaterThan(0);
      const example = /^`(\{.*?\})`/m.exec(readme.slice(at + heading.length + 1))?.[1];
      expect(example, `${op.name} example`).toBeDefined();
      const parsed = op.input.safeParse(JSON.parse(example!));
      expect(parsed.success, `${op.name} example ${example}: ${parsed.error?.message}`).toBe(true);
    }
    expect(readme.match(/^### `[a-z_]+` — /gm)).toHaveLength(OPERATIONS.length);
  });

  it('have unique names and routes', () => {
    expect(new Set(OPERATIONS.map((o) => o.name)).size).toBe(OPERATIONS.length);
    expect(new Set(OPERATIONS.map((o) => `${o.rest.method} ${o.rest.path}`)).size).toBe(OPERATIONS.length);
  });
});
