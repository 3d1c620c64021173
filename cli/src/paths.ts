import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: `.data` and `.env` are there, as for npm start. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
