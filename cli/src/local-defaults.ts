/**
 * Where the system `npm start` runs is, when no variable says otherwise: the data directory,
 * the embedded PostgreSQL, the operator API. The same defaults and variables as npm start
 * (infra's startConfigSchema and servicePorts), so the CLI finds that system on a fresh
 * clone without any setting, and follows FAIRLEAD_PG_PORT, FAIRLEAD_HTTP_PORT_BASE, … when
 * they move it.
 *
 * How the local database's credentials are found lives in localDatabaseUrl() alone: when
 * the local cluster's passwords change (per-role passwords kept in the data directory),
 * that one function changes.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { servicePorts, startConfigSchema } from '@fairlead/infra';
import { localDatabaseUrl as localRoleDatabase } from '@fairlead/local-servers';
import { defaultSecretFile } from '@fairlead/platform';
import { readEnv, type Env } from './settings';
import { usageError } from './exit-codes';
import { REPO_ROOT } from './paths';

const LocalEnv = z.object({
  FAIRLEAD_DATA_DIR: z.string().min(1).optional(),
  FAIRLEAD_PG_PORT: startConfigSchema.shape.FAIRLEAD_PG_PORT,
});

/** The local data directory: FAIRLEAD_DATA_DIR, else `.data` of the repository. */
export function localDataDir(env: Env): string {
  const { FAIRLEAD_DATA_DIR } = readEnv(LocalEnv, env);
  return FAIRLEAD_DATA_DIR ? resolve(FAIRLEAD_DATA_DIR) : resolve(REPO_ROOT, '.data');
}

/**
 * The database `npm start` creates on its embedded PostgreSQL (database `fairlead` on
 * 127.0.0.1:FAIRLEAD_PG_PORT), logged in as `role`'s database role with the password file
 * npm start generated for it in the data directory (libs/local-servers' localDatabaseUrl:
 * the read-model commands use the operator CLI's role, `tickets` the ticket service's).
 */
export function localDatabaseUrl(env: Env, role?: string): { url: string; passwordFile: string } {
  const { FAIRLEAD_PG_PORT } = readEnv(LocalEnv, env);
  const local = localRoleDatabase({ dataDir: localDataDir(env), port: FAIRLEAD_PG_PORT, ...(role ? { role } : {}) });
  return { url: local.url, passwordFile: local.passwordFile };
}

/** The development JWT secret the APIs of npm start sign with: JWT_SECRET_FILE, else `<data dir>/auth/jwt-secret`. */
export function localJwtSecretFile(env: Env): string {
  return env.JWT_SECRET_FILE || defaultSecretFile(localDataDir(env));
}

/** The operator API npm start runs: http://127.0.0.1:<its port> (FAIRLEAD_HTTP_PORT_BASE / FAIRLEAD_OPERATOR_API_PORT move it). */
export function localOperatorApiUrl(env: Env): string {
  let port: number | undefined;
  try {
    port = servicePorts(env)['operator-api'];
  } catch (error) {
    throw usageError(`invalid port settings: ${error instanceof z.ZodError ? error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (error as Error).message}`);
  }
  return `http://127.0.0.1:${port}`;
}
