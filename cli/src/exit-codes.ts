/** The exit codes of `fairlead`, the same for every command (printed by `fairlead --help`, listed in the README). */
export const EXIT = {
  /** Done; a check (verify, audit) found nothing wrong. */
  ok: 0,
  /** A check found a problem, or the command could not do what was asked. */
  failed: 1,
  /** The command line or a setting is wrong: nothing was done. */
  usage: 2,
  /** PostgreSQL or the operator API cannot be reached (or refuses the credentials). */
  unreachable: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0  done; verify and audit found nothing wrong
  1  a check found a problem (verify: read models differ; audit: a least-recently-served violation),
     or the command could not do its work (an unknown lead, a refused path, a failed project, …)
  2  usage: an unknown command or option, a bad value, a bad setting in the environment
  3  the system cannot be reached: PostgreSQL or the operator API is down, or refuses the credentials`;

/** An error the user can act on: printed as one line, without a stack, with its exit code. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(EXIT.usage, message);
export const failed = (message: string): CliError => new CliError(EXIT.failed, message);
export const unreachable = (message: string, cause?: unknown): CliError => new CliError(EXIT.unreachable, message, { cause });
