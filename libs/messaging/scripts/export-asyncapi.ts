/**
 * Writes the AsyncAPI 3 document of the NATS subjects: `npm run contracts:asyncapi [-- <file>]`
 * (default libs/messaging/asyncapi.json). asyncapi.unit.test.ts keeps the committed file
 * equal to what the contracts make.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { renderAsyncApi } from '../src/asyncapi';

const file = resolve(process.argv[2] ?? 'libs/messaging/asyncapi.json');
await writeFile(file, renderAsyncApi());
console.log(`wrote ${file}`);
