/**
 * Typed errors of the ticket workflow. `code` is stable (clients match on it); `kind`
 * tells the edges how to answer (HTTP status, MCP tool error) without knowing every code.
 */
import { AppError } from '@fairlead/platform';

export type ErrorKind = 'invalid' | 'forbidden' | 'not_found' | 'conflict';

/** The HTTP status of each kind (the same as the error catalogue's, @fairlead/contracts ERROR_KINDS). */
const STATUS_OF_KIND: Record<ErrorKind, number> = { invalid: 400, forbidden: 403, not_found: 404, conflict: 409 };

/** The platform's error type, with the kind it was raised as. */
export class TicketWorkflowError extends AppError {
  constructor(
    code: string,
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, { status: STATUS_OF_KIND[kind], ...(options?.cause === undefined ? {} : { cause: options.cause }) });
    this.name = 'TicketWorkflowError';
  }
}

export const isTicketWorkflowError = (error: unknown): error is TicketWorkflowError => error instanceof TicketWorkflowError;

export const notFound = (code: string, message: string) => new TicketWorkflowError(code, 'not_found', message);
export const conflict = (code: string, message: string) => new TicketWorkflowError(code, 'conflict', message);
export const invalid = (code: string, message: string) => new TicketWorkflowError(code, 'invalid', message);
export const forbidden = (code: string, message: string) => new TicketWorkflowError(code, 'forbidden', message);

/** Every code in one place, so clients and tests share one spelling. */
export const ERROR_CODES = Object.freeze({
  validation: 'VALIDATION_FAILED',
  projectNotFound: 'PROJECT_NOT_FOUND',
  projectAlreadyRegistered: 'PROJECT_ALREADY_REGISTERED',
  /** Another project holds the key (keys are unique, reserved atomically, never reused). */
  projectKeyTaken: 'PROJECT_KEY_TAKEN',
  projectDeleted: 'PROJECT_DELETED',
  projectHasOpenTickets: 'PROJECT_HAS_OPEN_TICKETS',
  /** A caller's ticket_id whose prefix is not the project's key. */
  ticketIdMismatch: 'TICKET_ID_MISMATCH',
  ticketNotFound: 'TICKET_NOT_FOUND',
  ticketAlreadyExists: 'TICKET_ALREADY_EXISTS',
  ticketClosed: 'TICKET_CLOSED',
  stageOutOfOrder: 'STAGE_OUT_OF_ORDER',
  planComplete: 'PLAN_ALREADY_COMPLETE',
  taskAlreadyQueued: 'TASK_ALREADY_QUEUED',
  taskNotAvailable: 'TASK_NOT_AVAILABLE',
  /** queue_task for a worker type that is not the ticket's next stage. */
  wrongWorkerType: 'WRONG_WORKER_TYPE',
  /** The ticket's task is held by another worker: only its holder (or an operator) completes the stage. */
  taskHeldByAnother: 'TASK_HELD_BY_ANOTHER',
  /** Releasing or renewing a task nobody (or someone else) holds. */
  taskNotHeld: 'TASK_NOT_HELD',
  /** A lease-expiry release of a task whose holder showed life meanwhile. */
  taskLeaseActive: 'TASK_LEASE_ACTIVE',
  /** resume_ticket_processing on a ticket whose holder is still at work. */
  taskInProgress: 'TASK_IN_PROGRESS',
  /** A ticket with open dependencies is not handed out. */
  ticketBlocked: 'TICKET_BLOCKED',
  dependencyCycle: 'DEPENDENCY_CYCLE',
  dependencyNotFound: 'DEPENDENCY_NOT_FOUND',
  workerTypeNotFound: 'WORKER_TYPE_NOT_FOUND',
  workerTypeExists: 'WORKER_TYPE_EXISTS',
  workerTypeInUse: 'WORKER_TYPE_IN_USE',
  noActiveWorker: 'NO_ACTIVE_WORKER',
  workerNotFound: 'WORKER_NOT_FOUND',
  workerAlreadyRegistered: 'WORKER_ALREADY_REGISTERED',
  workerStopped: 'WORKER_STOPPED',
  eventNotFound: 'COORDINATOR_EVENT_NOT_FOUND',
  distributionNotFound: 'DISTRIBUTION_NOT_FOUND',
  distributionAlreadyRolledBack: 'DISTRIBUTION_ALREADY_ROLLED_BACK',
  distributionNotFinished: 'DISTRIBUTION_NOT_FINISHED',
  tooManyConflicts: 'TOO_MANY_CONFLICTS',
  /** More than the event store holds in one event. */
  tooLarge: 'TOO_LARGE',
  /** A path outside its configured root, with `..`, or through a symlink that leads outside. */
  pathNotAllowed: 'PATH_NOT_ALLOWED',
  /** Distribution is not configured (no templates/projects root). */
  filesNotConfigured: 'FILES_NOT_CONFIGURED',
});
