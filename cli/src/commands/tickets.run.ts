/** What the tickets commands do when they run (loaded on demand by tickets.ts). */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { distributeCommand, historyCommand, isTicketWorkflowError, rollbackCommand, runTickets, UsageError, type CliCommand, type DistributeOptions } from '@fairlead/ticket-workflow/cli';
import type { CliIo } from '../command-kit';
import { connectionOf, databaseTarget, databaseUnreachable, isDatabaseUnreachable } from '../database';
import { EXIT, failed } from '../exit-codes';

export type { DistributeOptions };

/** A tickets command as the command line gave it. */
export type TicketsRequest =
  | { command: 'distribute'; options: DistributeOptions }
  | { command: 'rollback'; id: string; options: { projectsRoot?: string; json?: boolean } }
  | { command: 'history'; id: string | undefined; options: { template?: string; json?: boolean } };

function toCommand(request: TicketsRequest, io: CliIo): CliCommand {
  switch (request.command) {
    case 'distribute':
      return distributeCommand(request.options, { cwd: io.cwd, readFileSync: (p) => readFileSync(p, 'utf8') });
    case 'rollback':
      return rollbackCommand(request.id, request.options, { cwd: io.cwd });
    case 'history':
      return historyCommand(request.id, request.options);
  }
}

/** Checks the options (usage errors to exit code 2), runs the command, records its exit code. */
export async function runTicketsCommand(cmd: Command, io: CliIo, request: TicketsRequest): Promise<void> {
  let command: CliCommand;
  try {
    command = toCommand(request, io);
  } catch (error) {
    if (error instanceof UsageError) return cmd.error(error.message, { exitCode: EXIT.usage, code: 'fairlead.invalidArgument' });
    throw error;
  }
  const target = databaseTarget(io.env, 'ticket-workflow');
  try {
    io.exit(await runTickets(command, { connection: connectionOf(target), cwd: io.cwd, env: io.env, out: (line) => io.stdout.write(`${line}\n`) }));
  } catch (error) {
    if (isTicketWorkflowError(error)) throw failed(`${error.code}: ${error.message}`);
    if (isDatabaseUnreachable(error)) throw databaseUnreachable(target, error);
    throw error;
  }
}
