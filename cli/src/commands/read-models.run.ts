/** What replay, verify, audit and events do when they run (loaded on demand by read-models.ts). */
import type { Command } from 'commander';
import { CommandError, FairleadArgs, runCommand, UsageError } from '@fairlead/operator-api/cli';
import { defined, validate, type CliIo } from '../command-kit';
import { databaseUnreachable, isDatabaseUnreachable, openDatabase } from '../database';
import { failed, usageError } from '../exit-codes';

const LABELS = { projection: '<projection>', leadId: '<lead-id>' };

/** Validates the arguments, connects, runs the command and records its exit code. */
export async function runReadModelCommand(cmd: Command, io: CliIo, raw: Record<string, unknown>): Promise<void> {
  const args = validate(cmd, FairleadArgs, defined(raw), LABELS);
  const db = await openDatabase(io.env);
  try {
    io.exit(await runCommand(args, { pool: db.pool, store: db.store, storeSchema: db.target.storeSchema, out: io.stdout, err: io.stderr }));
  } catch (error) {
    if (error instanceof UsageError) throw usageError(error.message);
    if (error instanceof CommandError) throw failed(`${error.code}: ${error.message}`);
    if (isDatabaseUnreachable(error)) throw databaseUnreachable(db.target, error);
    throw error;
  } finally {
    await db.close().catch(() => undefined);
  }
}
