/**
 * The upstream API key settings, as one zod fragment, and how they become a verifier.
 * UPSTREAM_API_KEYS lists the valid keys (comma separated, see parseApiKeys). Outside
 * production, without it, the local development key is used: one random key in a file
 * under the data directory (created on first use, readable by its owner only), as the JWT
 * development secret is, so `npm start` and `npm run demo` need nothing configured.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { env } from '../config';
import { parseApiKeys, type ApiKey } from './api-keys';
import { defaultSecretFile, loadOrCreateSecretFile } from './dev-secret';

/** `<FAIRLEAD_DATA_DIR or <repo>/.data>/auth/upstream-api-key`. */
export function defaultUpstreamKeyFile(dataDir = process.env.FAIRLEAD_DATA_DIR): string {
  return resolve(defaultSecretFile(dataDir), '..', 'upstream-api-key');
}

export const upstreamKeyConfigSchema = z.object({
  /** Valid upstream API keys: `[name=]<key>` or `[name=]sha256:<hex>`, comma separated. */
  UPSTREAM_API_KEYS: env
    .list()
    .pipe(z.array(z.string()).min(1, 'at least one key'))
    .refine(
      (entries) => {
        try {
          parseApiKeys(entries);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'each entry is "[name=]<key of 32+ printable characters>" or "[name=]sha256:<64 hex digits>", names unique' },
    )
    .optional()
    .describe('valid upstream API keys (X-Api-Key of lead.approved over HTTP): [name=]<key of 32+ characters> or [name=]sha256:<hex digest>, comma separated'),
  /** Outside production, without UPSTREAM_API_KEYS: the local development key's file (created when missing). */
  UPSTREAM_API_KEY_FILE: z
    .string()
    .min(1)
    .default(defaultUpstreamKeyFile())
    .meta({
      description: "outside production, without UPSTREAM_API_KEYS: the local development key's file (created when missing, mode 0600)",
      envDefault: '<FAIRLEAD_DATA_DIR>/auth/upstream-api-key',
    }),
});
export type UpstreamKeyConfig = z.output<typeof upstreamKeyConfigSchema>;

/** For `.refine(upstreamKeysInProduction.check, upstreamKeysInProduction.params)`: no development key in production. */
export const upstreamKeysInProduction = {
  check: (c: { NODE_ENV: string; UPSTREAM_API_KEYS?: readonly string[] | undefined }): boolean => c.NODE_ENV !== 'production' || c.UPSTREAM_API_KEYS !== undefined,
  params: { path: ['UPSTREAM_API_KEYS'], message: 'in production, set UPSTREAM_API_KEYS' },
};

export interface ResolvedUpstreamKeys {
  keys: ApiKey[];
  /** The local development key's file, when UPSTREAM_API_KEYS is not set. */
  devKeyFile?: string;
}

export async function resolveUpstreamKeys(config: Readonly<{ UPSTREAM_API_KEYS?: readonly string[] | undefined; UPSTREAM_API_KEY_FILE: string }>): Promise<ResolvedUpstreamKeys> {
  if (config.UPSTREAM_API_KEYS) return { keys: parseApiKeys(config.UPSTREAM_API_KEYS) };
  const key = await loadOrCreateSecretFile(config.UPSTREAM_API_KEY_FILE);
  return { keys: parseApiKeys([`local=${key}`]), devKeyFile: config.UPSTREAM_API_KEY_FILE };
}
