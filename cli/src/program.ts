/**
 * The `fairlead` command tree (commander): every command and subcommand with its help,
 * examples and valid values. Errors of the command line are one line naming the command's
 * help, exit code 2 (run.ts turns every other error into its one line and exit code).
 */
import { Command } from 'commander';
// Imported, not read from disk at run time: the production build inlines it (the image has no cli/ folder).
import cliPackage from '../package.json' with { type: 'json' };
import { registerProjectionsCommands } from './commands/projections';
import { registerReadModelCommands } from './commands/read-models';
import { registerTicketsCommands } from './commands/tickets';
import { registerTokenCommand } from './commands/token';
import type { CliIo } from './command-kit';
import { EXIT_CODES_HELP } from './exit-codes';

export const ENVIRONMENT_HELP = `Environment (all optional: the defaults find the system \`npm start\` runs; .env is read as npm start reads it):
  DATABASE_URL             PostgreSQL of the event store (default: npm start's, 127.0.0.1:FAIRLEAD_PG_PORT, database fairlead)
  EVENT_STORE_SCHEMA       schema of the event store (default eventstore)
  FAIRLEAD_DATA_DIR        npm start's data directory: the local database, the development JWT secret (default .data)
  FAIRLEAD_PG_PORT         port of npm start's PostgreSQL (default 54329)
  FAIRLEAD_API_URL         operator API for \`projections\` (default http://127.0.0.1:7100; FAIRLEAD_HTTP_PORT_BASE and
                           FAIRLEAD_OPERATOR_API_PORT move it as they move npm start's)
  FAIRLEAD_TOKEN           bearer token for \`projections\` (default: minted from JWT_SECRET or the development secret)
  JWT_SECRET, JWT_SECRET_FILE, JWT_ISSUER, JWT_AUDIENCE   how tokens are signed (as the APIs read them)
  TEMPLATES_ROOT, PROJECTS_ROOT                           the roots of \`tickets\` (default: the current directory)
  DEBUG=fairlead           print the stack trace of an unexpected error (as --verbose does)`;

/** The program's name in messages and help: `fairlead`, also when run as `npm run fairlead`. */
export const PROGRAM = 'fairlead';

const { version } = cliPackage;

/** `fairlead audit lead` for the `lead` command under `audit`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Joins the lines of each paragraph (a blank line separates paragraphs). */
export const reflow = (text: string): string =>
  text
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s*\n\s*/g, ' ').trim())
    .join('\n\n');

/** Every command of the tree, the program first (help and settings apply to each). */
export function allCommands(root: Command): Command[] {
  return [root, ...root.commands.flatMap((c) => allCommands(c))];
}

export function buildProgram(io: CliIo): Command {
  const program = new Command(PROGRAM)
    .description('Fairlead from the command line: the read models (replay, verify, audit), the event log, ticket distribution, tokens and stalled projections.')
    .version(version, '-V, --version', 'print the version')
    .option('--verbose', 'print the stack trace of an unexpected error')
    .helpCommand(true)
    .addHelpText('after', `\nEvery command has --help, with examples: fairlead replay --help, fairlead tickets distribute --help.\n\n${ENVIRONMENT_HELP}\n\n${EXIT_CODES_HELP}`);

  registerReadModelCommands(program, io);
  registerTicketsCommands(program, io);
  registerTokenCommand(program, io);
  registerProjectionsCommands(program, io);

  for (const cmd of allCommands(program)) {
    // Descriptions are written as wrapped source lines; commander wraps them to the terminal.
    cmd.description(reflow(cmd.description()));
    cmd
      // Errors come back to run.ts as exceptions; it owns the exit code.
      .exitOverride()
      .showSuggestionAfterError(true)
      .configureHelp({ sortSubcommands: false, showGlobalOptions: cmd !== program })
      .configureOutput({
        writeOut: (s) => void io.stdout.write(s),
        writeErr: (s) => void io.stderr.write(s),
        // One line: what is wrong, and where the help is.
        outputError: (message, write) => write(`${commandPath(cmd)}: ${message.trim().replace(/^error: /, '').replace(/\n+/g, ' ')} (see: ${commandPath(cmd)} --help)\n`),
      });
  }
  return program;
}
