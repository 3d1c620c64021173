/**
 * The local development secret: outside production, when neither JWT_SECRET nor a JWKS
 * URL is configured, every operator-facing API signs and verifies with a random secret
 * kept in one file under the data directory (created on first use, readable by its owner
 * only). `npm run token` reads the same file, so `npm start` plus one minted token works
 * for the operator API and ticket-workflow alike on a fresh clone.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** `<FAIRLEAD_DATA_DIR or <repo>/.data>/auth/jwt-secret`, shared by all services. */
export function defaultSecretFile(dataDir = process.env.FAIRLEAD_DATA_DIR): string {
  return resolve(dataDir || resolve(repoRoot, '.data'), 'auth', 'jwt-secret');
}

export async function readSecretFile(file: string): Promise<string | undefined> {
  try {
    const secret = (await readFile(file, 'utf8')).trim();
    return secret.length >= 32 ? secret : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Reads the secret file, creating it with a fresh random secret when missing. */
export async function loadOrCreateSecretFile(file: string): Promise<string> {
  const existing = await readSecretFile(file);
  if (existing) return existing;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(48).toString('base64url');
  try {
    // 'wx': two processes starting at once must not overwrite each other's secret.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = await readSecretFile(file);
    if (!winner) throw new Error(`the secret file ${file} exists but holds no usable secret`, { cause: error });
    return winner;
  }
}
