/**
 * Writes every cross-service message schema as JSON Schema (draft 2020-12) for
 * publishers that do not use TypeScript: `npm run contracts:export [-- <outDir>]`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { MESSAGE_SCHEMAS } from '../src/index';

const outDir = resolve(process.argv[2] ?? 'libs/contracts/json-schema');
await mkdir(outDir, { recursive: true });
for (const { name, version, schema } of MESSAGE_SCHEMAS) {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' });
  const file = resolve(outDir, `${name}.v${version}.schema.json`);
  await writeFile(file, `${JSON.stringify({ $id: `https://fairlead.dev/schemas/${name}.v${version}.json`, title: `${name} v${version}`, ...json }, null, 2)}\n`);
  console.log(`wrote ${file}`);
}
