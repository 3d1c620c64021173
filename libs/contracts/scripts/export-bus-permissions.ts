/**
 * `npm run docs:bus`: writes the bus permission table (libs/contracts/src/bus-permissions.ts)
 * into docs/security.md between its markers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUS_TABLE_MARKERS, busPermissionsMarkdown } from '../src/bus-permissions';

const file = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'security.md');
const text = readFileSync(file, 'utf8');
const start = text.indexOf(BUS_TABLE_MARKERS.start);
const end = text.indexOf(BUS_TABLE_MARKERS.end);
if (start === -1 || end === -1 || end < start) throw new Error(`docs/security.md lacks the markers ${BUS_TABLE_MARKERS.start} … ${BUS_TABLE_MARKERS.end}`);
writeFileSync(file, `${text.slice(0, start + BUS_TABLE_MARKERS.start.length)}\n${busPermissionsMarkdown()}\n${text.slice(end)}`);
console.log(`wrote the bus permission table into ${file}`);
