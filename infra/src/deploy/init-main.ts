/**
 * `node dist/fairlead-init/main.js <directory>…` (docker-compose.yml's fairlead-init): see
 * init.ts. Exit codes: 0 prepared, 64 wrong usage, 1 anything else (a volume not writable).
 */
import { InitUsageError, parseDirectories, prepareDirectories } from './init';

try {
  const directories = parseDirectories(process.argv.slice(2));
  const created = await prepareDirectories(directories);
  console.log(JSON.stringify({ msg: 'fairlead-init: state prepared', directories, created }));
} catch (error) {
  console.error(`fairlead-init: ${(error as Error).message}`);
  process.exit(error instanceof InitUsageError ? 64 : 1);
}
