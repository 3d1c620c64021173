/**
 * The `fairlead` process (bin/fairlead.js loads it): reads .env of the repository as
 * `npm start` does (a variable already set wins), runs the command line, exits with its code.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from './paths';
import { runFairlead } from './run';

const envFile = resolve(REPO_ROOT, '.env');
try {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
} catch (error) {
  process.stderr.write(`fairlead: cannot read ${envFile}: ${(error as Error).message}\n`);
  process.exit(2);
}

// `fairlead … | head`: a reader that stops reading ends the command quietly, as for any Unix tool.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runFairlead(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // npm runs scripts in the repository's root; INIT_CWD is where the user typed `npm run …`.
  cwd: process.env.INIT_CWD ?? process.cwd(),
});
