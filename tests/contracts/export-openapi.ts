/**
 * `npm run contracts:openapi [-- <dir>]`: writes every service's OpenAPI document to
 * `<dir>/<service>.json` (default `.data/openapi`) without starting any service.
 * `npm run lint:openapi` lints what it writes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openApiDocuments } from './openapi-documents';

const dir = resolve(process.argv[2] ?? '.data/openapi');
mkdirSync(dir, { recursive: true });
for (const [service, doc] of Object.entries(await openApiDocuments())) {
  const file = join(dir, `${service}.json`);
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`${file}  (${Object.keys(doc.paths).length} paths)`);
}
