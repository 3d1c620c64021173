import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUS_TABLE_MARKERS, busPermissionsMarkdown } from './bus-permissions';

const doc = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'security.md');

describe('docs/security.md', () => {
  it('shows the bus permission table as libs/contracts defines it (run `npm run docs:bus` after changing it)', () => {
    const text = readFileSync(doc, 'utf8');
    const start = text.indexOf(BUS_TABLE_MARKERS.start);
    const end = text.indexOf(BUS_TABLE_MARKERS.end);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    expect(text.slice(start + BUS_TABLE_MARKERS.start.length, end).trim()).toBe(busPermissionsMarkdown());
  });
});
