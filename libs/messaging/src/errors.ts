/** Base of the messaging library's typed errors; `code` is stable, suitable for mapping at the edges. */
export class MessagingError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MessagingError';
  }
}

/** A durable publish got no acknowledgement within its retry budget; the message may or may not be stored. */
export class PublishFailedError extends MessagingError {
  constructor(
    readonly subject: string,
    readonly msgID: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super('MESSAGING_PUBLISH_FAILED', `publish to ${subject} (msgID ${msgID}) failed after ${attempts} attempt(s)`, options);
    this.name = 'PublishFailedError';
  }
}

/** No reply arrived within the request's timeout. */
export class RequestTimeoutError extends MessagingError {
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super('MESSAGING_REQUEST_TIMEOUT', `request to ${subject} timed out after ${timeoutMs} ms`, options);
    this.name = 'RequestTimeoutError';
  }
}

/** Nobody listens on the request's subject. */
export class NoRespondersError extends MessagingError {
  constructor(
    readonly subject: string,
    options?: { cause?: unknown },
  ) {
    super('MESSAGING_NO_RESPONDERS', `no responders on ${subject}`, options);
    this.name = 'NoRespondersError';
  }
}

/** A validation issue as carried over the wire (a plain copy of a zod issue). */
export interface WireIssue {
  path: (string | number)[];
  code: string;
  message: string;
}

/**
 * The responder answered with an error; `code` is the responder's own stable code, `status`
 * the HTTP status it is answered with and `kind` what kind of failure it is (sent by the
 * responder; from the error catalogue when an older responder sent only the code).
 */
export class RemoteError extends MessagingError {
  constructor(
    code: string,
    message: string,
    readonly subject: string,
    readonly issues?: WireIssue[],
    readonly status: number = 500,
    readonly kind: string | undefined = undefined,
  ) {
    super(code, message);
    this.name = 'RemoteError';
  }
}

/** A reply (or a message) did not match the schema the caller expected. */
export class InvalidResponseError extends MessagingError {
  constructor(
    readonly subject: string,
    readonly issues: WireIssue[],
    options?: { cause?: unknown },
  ) {
    super('MESSAGING_INVALID_RESPONSE', `reply from ${subject} does not match the expected schema`, options);
    this.name = 'InvalidResponseError';
  }
}

/**
 * Thrown by a consumer handler for a failure that retrying cannot fix (a business rule
 * violation, a reference that will never exist): the message is dead-lettered at once.
 */
export class PermanentError extends MessagingError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'MESSAGING_PERMANENT', message, options);
    this.name = 'PermanentError';
  }
}

export const isMessagingError = (error: unknown): error is MessagingError => error instanceof MessagingError;
export const isPublishFailedError = (error: unknown): error is PublishFailedError => error instanceof PublishFailedError;
export const isRequestTimeoutError = (error: unknown): error is RequestTimeoutError => error instanceof RequestTimeoutError;
export const isNoRespondersError = (error: unknown): error is NoRespondersError => error instanceof NoRespondersError;
export const isRemoteError = (error: unknown): error is RemoteError => error instanceof RemoteError;
export const isPermanentError = (error: unknown): error is PermanentError => error instanceof PermanentError;
