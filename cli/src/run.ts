/**
 * Runs `fairlead` on a command line and resolves with its exit code: 0 done, 1 a check
 * failed or the command could not do its work, 2 a usage error, 3 the system cannot be
 * reached (exit-codes.ts). A user's error is one line on stderr without a stack trace;
 * only an unexpected error (a bug) shows its stack, with --verbose or DEBUG=fairlead.
 */
import { CommanderError } from 'commander';
import { z } from 'zod';
import type { CliIo } from './command-kit';
import { CliError, EXIT } from './exit-codes';
import { buildProgram, PROGRAM } from './program';
import { issuesLine } from './settings';

// SQLSTATE 42P01 undefined table, 3F000 undefined schema: a database without Fairlead's tables.
const isNotFairleadDatabase = (error: unknown): boolean => typeof error === 'object' && error !== null && 'code' in error && (error.code === '42P01' || error.code === '3F000');

/** Commander's ways of ending that are not errors: help or version shown on request. */
const SHOWN_ON_REQUEST = new Set(['commander.helpDisplayed', 'commander.version']);

export async function runFairlead(argv: readonly string[], io: Omit<CliIo, 'exit'>): Promise<number> {
  const verbose = argv.includes('--verbose') || /(^|[\s,])(fairlead|\*)([\s,:]|$)/.test(io.env.DEBUG ?? '');
  let code: number = EXIT.ok;
  const program = buildProgram({ ...io, exit: (c) => (code = c) });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    return await report(error, io, verbose);
  }
}

async function report(error: unknown, io: Omit<CliIo, 'exit'>, verbose: boolean): Promise<number> {
  const say = (line: string) => io.stderr.write(`${PROGRAM}: ${line}\n`);
  if (error instanceof CommanderError) {
    // The message is written already (program.ts: outputError); help asked for is not an error.
    if (SHOWN_ON_REQUEST.has(error.code)) return EXIT.ok;
    return EXIT.usage; // a missing or unknown command or option, a bad value
  }
  if (error instanceof CliError) {
    say(error.message);
    if (verbose && error.cause instanceof Error) io.stderr.write(`${error.cause.stack}\n`);
    return error.exitCode;
  }
  if (error instanceof z.ZodError) {
    say(`invalid setting ${issuesLine(error)}`);
    return EXIT.usage;
  }
  // A connection lost mid-command (the commands say so themselves when they connect).
  const { databaseTarget, databaseUnreachable, isDatabaseUnreachable } = await import('./database');
  if (isDatabaseUnreachable(error)) {
    let target;
    try {
      target = databaseTarget(io.env);
    } catch {
      target = undefined;
    }
    say(target ? databaseUnreachable(target, error).message : `cannot reach PostgreSQL: ${(error as Error).message}`);
    return EXIT.unreachable;
  }
  if (isNotFairleadDatabase(error)) {
    say(`${(error as Error).message}: is DATABASE_URL the Fairlead database, and EVENT_STORE_SCHEMA its event store? (npm start creates them)`);
    return EXIT.failed;
  }
  // Not the user's doing: a bug or an unforeseen state. The stack helps whoever fixes it.
  say(`unexpected error: ${(error as Error)?.message ?? String(error)}${verbose ? '' : ' (--verbose or DEBUG=fairlead shows the stack trace)'}`);
  if (verbose) io.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
  return EXIT.failed;
}
