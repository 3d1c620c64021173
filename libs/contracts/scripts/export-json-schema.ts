/**
 * Writes every cross-service message schema as JSON Schema (draft 2020-12) for
 * publishers that do not use TypeScript: `npm run contracts:export [-- <outDir>]`.
 * The committed output is checked against the zod schemas by json-schema.unit.test.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { publishedJsonSchemas, renderJsonSchemaFile } from '../src/index';

const outDir = resolve(process.argv[2] ?? 'libs/contracts/json-schema');
await mkdir(outDir, { recursive: true });
for (const schema of publishedJsonSchemas()) {
  const file = resolve(outDir, schema.fileName);
  await writeFile(file, renderJsonSchemaFile(schema));
  console.log(`wrote ${file}`);
}
