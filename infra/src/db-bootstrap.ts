/**
 * `npm run db:bootstrap`: the database bootstrap for a deployment (an init container, a
 * release step), the same one `npm start` runs locally. As the admin of DATABASE_ADMIN_URL
 * it creates or updates the roles of the grants table (libs/local-servers/src/database-roles.ts) with the
 * passwords in FAIRLEAD_DB_PASSWORDS_DIR (a missing file is generated, mode 0600), gives
 * each service its schema, migrates the event store as its owner and grants the rest.
 * Idempotent: run it again after a release, or after rotating a password file.
 * Then each service runs with DATABASE_URL=postgres://<its role>@host:port/db and
 * DATABASE_PASSWORD_FILE=<dir>/<its role>.password (docs/security.md#database).
 */
import { chmod, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig, loadOrCreateSecretFile, readPasswordFile } from '@fairlead/platform';
import { bootstrapDatabase, DATABASE_ROLES, ensureDatabaseRoles } from '@fairlead/local-servers';

import { dbBootstrapConfigSchema } from './db-bootstrap-config';

const config = loadConfig(dbBootstrapConfigSchema);
const adminUrl = new URL(config.DATABASE_ADMIN_URL);
if (config.DATABASE_ADMIN_PASSWORD_FILE) adminUrl.password = encodeURIComponent(await readPasswordFile(config.DATABASE_ADMIN_PASSWORD_FILE));
const dir = resolve(config.FAIRLEAD_DB_PASSWORDS_DIR);
await mkdir(dir, { recursive: true, mode: 0o700 });
await chmod(dir, 0o700).catch(() => undefined); // a mounted secret directory may be read-only: its mode is the deployment's
const passwordOf = (role: string) => loadOrCreateSecretFile(join(dir, `${role}.password`));

try {
  await ensureDatabaseRoles(adminUrl.toString(), passwordOf);
  await bootstrapDatabase(adminUrl.toString());
} catch (error) {
  console.error(`db:bootstrap failed: ${(error as Error).message}`);
  process.exit(1);
}
const where = new URL(adminUrl);
where.password = '';
for (const r of DATABASE_ROLES) {
  where.username = r.role;
  console.log(`${r.usedBy.padEnd(16)} DATABASE_URL=${where.toString()} DATABASE_PASSWORD_FILE=${join(dir, `${r.role}.password`)}`);
}
