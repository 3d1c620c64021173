/**
 * The one catalogue of error codes: what kind of failure each stable code is, and the HTTP
 * status that kind is answered with (after fastify's lib/errors.js, where a code is made
 * once with its status). A refusal keeps its meaning across the wire: the NATS reply
 * envelope carries the code with its status and kind (libs/messaging), so a caller —
 * the operator API, fairness — reads them instead of guessing from the code's spelling
 * (as nats.js's JetStreamApiError carries a code and a status).
 *
 * The platform's error types (AppError and its subclasses) carry their status; a service
 * error names its code here, and `statusOfCode` gives the status a typed error of that code
 * answers with. A code that is not listed is `internal` unless its error says otherwise.
 */

/** Kinds of failure and their HTTP status. */
export const ERROR_KINDS = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
  upstream: 502,
  unavailable: 503,
  timeout: 504,
} as const;
export type ErrorKind = keyof typeof ERROR_KINDS;

/** Every code a service's command may answer with over NATS, by kind. */
export const ERROR_CATALOGUE = {
  // The request server's own answers (libs/messaging).
  INVALID_REQUEST: 'invalid',
  INTERNAL_ERROR: 'internal',
  // The event-sourcing kernel: the stream kept changing under a command (worth retrying).
  TOO_MANY_CONFLICTS: 'conflict',
  // The event store: an append against a version the stream has moved past (a stale If-Match).
  EVENT_STORE_CONCURRENCY: 'precondition_failed',
  // billing
  PROVIDER_NOT_FOUND: 'not_found',
  PROVIDER_EXISTS: 'conflict',
  PROVIDER_VERSION_CONFLICT: 'precondition_failed',
  CHARGE_NOT_FOUND: 'not_found',
  ALREADY_REFUNDED: 'conflict',
  NOTHING_TO_REFUND: 'conflict',
  IDEMPOTENCY_KEY_REUSED: 'conflict',
  BALANCE_LIMIT_EXCEEDED: 'conflict',
  // rotation
  NICHE_NOT_FOUND: 'not_found',
  NICHE_EXISTS: 'conflict',
  NICHE_VERSION_CONFLICT: 'precondition_failed',
  LEVEL_NOT_FOUND: 'not_found',
  LEVEL_EXISTS: 'conflict',
  LEVEL_POSITION_TAKEN: 'conflict',
  NO_ACTIVE_LEVELS: 'conflict',
  LEAD_CLAIMED_IN_OTHER_NICHE: 'conflict',
  CLAIM_RACED: 'conflict',
  // fairness
  SUBSCRIPTION_NOT_FOUND: 'not_found',
  SUBSCRIPTION_EXISTS: 'conflict',
  SUBSCRIPTION_VERSION_CONFLICT: 'precondition_failed',
  SUBSCRIPTION_CANCELLED: 'conflict',
  // intake
  LEAD_NOT_FOUND: 'not_found',
  LEAD_NOT_APPROVED: 'conflict',
  LEAD_INVALID: 'invalid',
  REQUEST_ID_USED: 'conflict',
  UNKNOWN_NICHE: 'invalid',
  ROTATION_UNAVAILABLE: 'unavailable',
  // relay (republishing a stored event for a dead-letter redrive)
  EVENT_NOT_FOUND: 'not_found',
  EVENT_TOO_LARGE_FOR_BUS: 'conflict',
  // notification (raised in its consumers, never over request/reply; listed so their status is one)
  NOTIFICATION_TEMPLATE_INVALID: 'internal',
  NOTIFICATION_FACT_MISSING: 'unavailable',
} as const satisfies Record<string, ErrorKind>;
export type CatalogueCode = keyof typeof ERROR_CATALOGUE;

/** The kind of a catalogued code; undefined for one the catalogue does not list. */
export function kindOfCode(code: string): ErrorKind | undefined {
  return Object.hasOwn(ERROR_CATALOGUE, code) ? ERROR_CATALOGUE[code as CatalogueCode] : undefined;
}

/** The status of a catalogued code (500 for one it does not list). */
export function statusOfCode(code: string): number {
  return ERROR_KINDS[kindOfCode(code) ?? 'internal'];
}

/** The kind of an HTTP status: its own where listed, else by class (4xx invalid, 5xx internal). */
export function kindOfStatus(status: number): ErrorKind {
  const exact = (Object.entries(ERROR_KINDS) as [ErrorKind, number][]).find(([, s]) => s === status);
  if (exact) return exact[0];
  return status >= 400 && status < 500 ? 'invalid' : 'internal';
}
