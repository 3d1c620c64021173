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

/**
 * Some of an append's event ids are already stored, but not as that same append (only
 * some of them, or in another stream or order). Nothing was written. A full, identical
 * re-append is not an error: it is the idempotent no-op.
 */
export class EventIdConflictError extends EventStoreError {
  constructor(
    readonly stream: string,
    /** The call's ids that were already stored. */
    readonly ids: readonly string[],
  ) {
    super('EVENT_STORE_EVENT_ID_CONFLICT', `stream ${stream}: event ids already stored elsewhere or partially: ${ids.join(', ')}`);
    this.name = 'EventIdConflictError';
  }
}

/** The append request itself is malformed (no events, duplicate ids, bad stream name, ...). */
export class InvalidAppendError extends EventStoreError {
  constructor(
    message: string,
    /** Validation issues, one line each. */
    readonly issues: readonly string[] = [],
  ) {
    super('EVENT_STORE_INVALID_APPEND', message);
    this.name = 'InvalidAppendError';
  }
}

export const isEventIdConflictError = (error: unknown): error is EventIdConflictError => error instanceof EventIdConflictError;
export const isInvalidAppendError = (error: unknown): error is InvalidAppendError => error instanceof InvalidAppendError;

/**
 * An event larger than the store accepts (`maxEventBytes`: the UTF-8 bytes of its data and
 * metadata as JSON). Nothing was written. The limit keeps every stored event publishable
 * on the bus (see docs/limits.md).
 */
export class EventTooLargeError extends EventStoreError {
  constructor(
    readonly stream: string,
    readonly eventId: string,
    readonly eventType: string,
    /** The event's data and metadata as JSON, in UTF-8 bytes. */
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super('EVENT_STORE_EVENT_TOO_LARGE', `event ${eventId} (${eventType}) to ${stream} is ${bytes} bytes; the store accepts at most ${maxBytes}`);
    this.name = 'EventTooLargeError';
  }
}

export const isEventTooLargeError = (error: unknown): error is EventTooLargeError => error instanceof EventTooLargeError;

/**
 * The store will never accept this append as it is: too large, malformed, or data the
 * database refuses (PostgreSQL's data exceptions, class 22, and program limits, class 54,
 * e.g. text jsonb cannot hold or nesting past its stack). Retrying it changes nothing;
 * callers turn it into a permanent refusal instead of a retry.
 */
export function isPermanentAppendError(error: unknown): boolean {
  if (error instanceof EventTooLargeError || error instanceof InvalidAppendError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|54)[0-9A-Z]{3}$/.test(code);
}
