/**
 * The intake service's typed errors. Each keeps a stable `code` (it travels in NATS error
 * replies) and an HTTP status (via the platform's AppError family) for the edges.
 */
import { AppError, ConflictError, NotFoundError, ValidationError, type ValidationIssue } from '@fairlead/platform';

/** Why a lead was refused: malformed, too large, too deep, of an unknown niche, or valid but unstorable. */
export type RejectionCode = 'LEAD_INVALID' | 'LEAD_TOO_LARGE' | 'LEAD_TOO_DEEP' | 'UNKNOWN_NICHE' | 'LEAD_UNSTORABLE';

/**
 * The lead was refused and the refusal recorded as LeadRejected; `reasons` are the lines
 * recorded. Permanent: the same message would be refused again.
 */
export class LeadRejectedError extends ValidationError {
  constructor(
    code: RejectionCode,
    readonly reasons: readonly string[],
    issues: readonly ValidationIssue[],
    /** The stream the rejection was recorded on. */
    readonly stream: string,
  ) {
    super(`lead rejected: ${reasons.join('; ')}`, issues, { code });
    this.name = 'LeadRejectedError';
  }
}

export const isLeadRejectedError = (error: unknown): error is LeadRejectedError => error instanceof LeadRejectedError;

export class LeadNotFoundError extends NotFoundError {
  constructor(readonly leadId: string) {
    super(`lead ${leadId} is unknown`, { code: 'LEAD_NOT_FOUND', details: { lead_id: leadId } });
    this.name = 'LeadNotFoundError';
  }
}

/** Only approved leads are distributed (a rejected one is not). */
export class LeadNotApprovedError extends ConflictError {
  constructor(readonly leadId: string) {
    super(`lead ${leadId} is not approved; only approved leads are distributed`, { code: 'LEAD_NOT_APPROVED', details: { lead_id: leadId } });
    this.name = 'LeadNotApprovedError';
  }
}

/** A request id names an earlier request of this lead that is no longer pending. */
export class RequestIdUsedError extends ConflictError {
  constructor(
    readonly leadId: string,
    readonly requestId: string,
  ) {
    super(`request ${requestId} of lead ${leadId} was already made and is no longer pending; use a new request id`, {
      code: 'REQUEST_ID_USED',
      details: { lead_id: leadId, request_id: requestId },
    });
    this.name = 'RequestIdUsedError';
  }
}

/** Rotation (which knows the niches) did not answer; the lead is neither accepted nor rejected. */
export class RotationUnavailableError extends AppError {
  constructor(nicheId: string, options: { cause?: unknown } = {}) {
    super('ROTATION_UNAVAILABLE', `could not look up niche ${nicheId}: the rotation service did not answer`, { status: 503, ...options });
    this.name = 'RotationUnavailableError';
  }
}
