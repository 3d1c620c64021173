/**
 * `npm run fairlead -- <command>`: rebuild, verify and audit the read models from the
 * event store (see FAIRLEAD_USAGE). Exit codes: 0 done, 1 failed or differences found,
 * 2 bad arguments.
 */
import pg from 'pg';
import { z } from 'zod';
import { createPostgresEventStore } from '@fairlead/event-store';
import { baseConfigSchema, databaseConnection, loadConfig } from '@fairlead/platform';
import { FAIRLEAD_USAGE, parseFairleadArgs, UsageError, type FairleadArgs } from './fairlead-args';
import { runCommand } from './fairlead-commands';

let args: FairleadArgs;
try {
  args = parseFairleadArgs(process.argv.slice(2));
} catch (error) {
  const reason = error instanceof z.ZodError ? error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('\n') : (error as Error).message;
  process.stderr.write(`${reason}\n${FAIRLEAD_USAGE}\n`);
  process.exit(2);
}

const env = loadConfig(
  z.object({
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
    DATABASE_PASSWORD_FILE: baseConfigSchema.shape.DATABASE_PASSWORD_FILE,
    EVENT_STORE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('eventstore'),
  }),
);
const pool = new pg.Pool({ ...databaseConnection(env), max: 4 });
const store = createPostgresEventStore({ pool, schema: env.EVENT_STORE_SCHEMA });
let code = 1;
try {
  code = await runCommand(args, { pool, store, storeSchema: env.EVENT_STORE_SCHEMA, out: process.stdout, err: process.stderr });
} catch (error) {
  const e = error as Error & { code?: string };
  process.stderr.write(`fairlead: ${e.code && !/^\d/.test(e.code) ? `${e.code}: ` : ''}${e.message}\n`);
  code = error instanceof UsageError ? 2 : 1;
} finally {
  await store.close();
  await pool.end();
}
process.exit(code);
