/** Base of the event store's typed errors; `code` is stable, suitable for mapping at the edges. */
export class EventStoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EventStoreError';
  }
}

/** The stream's version was not the expected one. */
export class ConcurrencyError extends EventStoreError {
  constructor(
    readonly stream: string,
    readonly expected: number | 'no_stream' | 'any',
    /** The version found, or undefined when the stream does not exist. */
    readonly actual: number | undefined,
  ) {
    super('EVENT_STORE_CONCURRENCY', `stream ${stream}: expected version ${String(expected)}, actual ${actual === undefined ? 'no stream' : actual}`);
    this.name = 'ConcurrencyError';
  }
}

export const isConcurrencyError = (error: unknown): error is ConcurrencyError => error instanceof ConcurrencyError;
