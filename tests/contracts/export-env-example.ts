/** `npm run env:example`: writes .env.example from the configuration schemas (see env-example.ts). */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderEnvExample } from './env-example';

const file = resolve(import.meta.dirname, '../../.env.example');
writeFileSync(file, renderEnvExample());
console.log(`wrote ${file}`);
