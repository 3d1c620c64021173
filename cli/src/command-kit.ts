/** Small helpers every command uses: examples in the help, zod validation of options as usage errors, repeatable options. */
import type { Command } from 'commander';
import type { z } from 'zod';
import { EXIT } from './exit-codes';
import { issuesLine } from './settings';

/** The context every action gets: the process's streams, environment and working directory, and where its exit code goes. */
export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: Readonly<Record<string, string | undefined>>;
  /** The user's working directory (relative paths of `tickets` are taken from it). */
  cwd: string;
  /** Records the exit code of the command that ran. */
  exit(code: number): void;
}

/** Adds an "Examples:" section after the command's help. */
export function examples(cmd: Command, lines: readonly string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`);
}

/** `--batch-size` for `batchSize`, `<lead-id>` for `leadId` when it is a positional (labels name those). */
export function flagOf(field: string, labels: Readonly<Record<string, string>> = {}): string {
  return labels[field] ?? `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Parses `raw` with the schema; a failure is a usage error of `cmd` (one line naming the flags, exit code 2). */
export function validate<S extends z.ZodType>(cmd: Command, schema: S, raw: unknown, labels: Readonly<Record<string, string>> = {}): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  return cmd.error(issuesLine(parsed.error, (path) => flagOf(String(path[0]), labels)), { exitCode: EXIT.usage, code: 'fairlead.invalidArgument' });
}

/** The argParser of an option that may be given several times: the values in order. */
export const repeatable = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Drops the keys whose value is undefined (zod's defaults then apply). */
export const defined = <T extends Record<string, unknown>>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
