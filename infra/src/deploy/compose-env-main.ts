/**
 * `npm run compose:env [-- <file>]`: writes deploy/compose.env (or <file>) from
 * deploy/compose.env.example with fresh secrets, readable by its owner only. It never
 * overwrites a file: PostgreSQL and Grafana keep the passwords their volumes were created with.
 * `npm run compose:env -- --example` rewrites deploy/compose.env.example from compose-env.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillComposeEnv, renderComposeEnvExample } from './compose-env';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const examplePath = resolve(repoRoot, 'deploy', 'compose.env.example');
const args = process.argv.slice(2);

if (args[0] === '--help' || args[0] === '-h') {
  console.log('usage: npm run compose:env [-- <file>]    write deploy/compose.env (or <file>) with fresh secrets, mode 0600\n       npm run compose:env -- --example  rewrite deploy/compose.env.example');
} else if (args[0] === '--example') {
  writeFileSync(examplePath, renderComposeEnvExample());
  console.log(`wrote ${relative(process.cwd(), examplePath)}`);
} else {
  const target = resolve(args[0] ?? resolve(repoRoot, 'deploy', 'compose.env'));
  try {
    writeFileSync(target, fillComposeEnv(readFileSync(examplePath, 'utf8')), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    console.error(`${relative(process.cwd(), target)} exists and is left as it is (delete it first for new secrets; the volumes keep the passwords they were created with)`);
    process.exit(1);
  }
  console.log(`wrote ${relative(process.cwd(), target)} (mode 0600); start with: docker compose --env-file ${relative(process.cwd(), target)} up --build -d`);
}
