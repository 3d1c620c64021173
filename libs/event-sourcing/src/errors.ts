/** The stream kept changing under a command: every re-read lost the race again. Worth retrying later. */
export class TooManyConflictsError extends Error {
  readonly code = 'TOO_MANY_CONFLICTS';
  /** Over HTTP: 409 Conflict (the client may retry). */
  readonly status = 409;

  constructor(
    readonly stream: string,
    /** Attempts made (each lost its race). */
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`${stream} kept changing under this command (${attempts} attempts); try again`, { cause });
    this.name = 'TooManyConflictsError';
  }
}

export const isTooManyConflictsError = (error: unknown): error is TooManyConflictsError => error instanceof TooManyConflictsError;
