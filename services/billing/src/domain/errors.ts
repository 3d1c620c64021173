/**
 * The billing service's typed errors. Each keeps a stable `code` (it travels in NATS
 * error replies) and an HTTP status (via the platform's AppError family) for the edges.
 */
import { ConflictError, NotFoundError, PreconditionFailedError } from '@fairlead/platform';

/** Also the answer to a charge for a provider billing does not know (no wallet). */
export class ProviderNotFoundError extends NotFoundError {
  constructor(readonly providerId: string) {
    super(`provider ${providerId} is not registered`, { code: 'PROVIDER_NOT_FOUND', details: { provider_id: providerId } });
    this.name = 'ProviderNotFoundError';
  }
}

/** A registration for an id that already holds a provider with other values. */
export class ProviderExistsError extends ConflictError {
  constructor(readonly providerId: string) {
    super(`provider ${providerId} is already registered with other values`, { code: 'PROVIDER_EXISTS', details: { provider_id: providerId } });
    this.name = 'ProviderExistsError';
  }
}

/** A refund names a (lead, provider) that was never charged (absent or declined). */
export class ChargeNotFoundError extends NotFoundError {
  constructor(
    readonly leadId: string,
    readonly providerId: string,
  ) {
    super(`provider ${providerId} was not charged for lead ${leadId}`, { code: 'CHARGE_NOT_FOUND', details: { lead_id: leadId, provider_id: providerId } });
    this.name = 'ChargeNotFoundError';
  }
}

/** A charge is refunded once. */
export class AlreadyRefundedError extends ConflictError {
  constructor(
    readonly leadId: string,
    readonly providerId: string,
  ) {
    super(`the charge of provider ${providerId} for lead ${leadId} is already refunded`, {
      code: 'ALREADY_REFUNDED',
      details: { lead_id: leadId, provider_id: providerId },
    });
    this.name = 'AlreadyRefundedError';
  }
}

/** A charge of 0 cents has nothing to give back. */
export class NothingToRefundError extends ConflictError {
  constructor(
    readonly leadId: string,
    readonly providerId: string,
  ) {
    super(`the charge of provider ${providerId} for lead ${leadId} was 0 cents`, { code: 'NOTHING_TO_REFUND', details: { lead_id: leadId, provider_id: providerId } });
    this.name = 'NothingToRefundError';
  }
}

/** An idempotency key already used for a different top-up of the same provider. */
export class IdempotencyKeyReusedError extends ConflictError {
  constructor(
    readonly providerId: string,
    readonly idempotencyKey: string,
  ) {
    super(`idempotency key ${idempotencyKey} was already used for another top-up of provider ${providerId}`, {
      code: 'IDEMPOTENCY_KEY_REUSED',
      details: { provider_id: providerId, idempotency_key: idempotencyKey },
    });
    this.name = 'IdempotencyKeyReusedError';
  }
}

/** An update decided on a version of the provider that is no longer the latest. */
export class ProviderVersionConflictError extends PreconditionFailedError {
  constructor(
    readonly providerId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`provider ${providerId}: expected version ${expected}, actual ${actual}`, {
      code: 'PROVIDER_VERSION_CONFLICT',
      details: { provider_id: providerId, expected_version: expected, actual_version: actual },
    });
    this.name = 'ProviderVersionConflictError';
  }
}

/** A top-up or refund that would take the balance past MONEY_LIMITS.maxBalanceCents. */
export class BalanceLimitExceededError extends ConflictError {
  constructor(
    readonly providerId: string,
    readonly balanceCents: number,
    readonly amountCents: number,
    readonly maxBalanceCents: number,
  ) {
    super(`the balance of provider ${providerId} (${balanceCents} cents) plus ${amountCents} cents would pass the maximum balance of ${maxBalanceCents} cents`, {
      code: 'BALANCE_LIMIT_EXCEEDED',
      details: { provider_id: providerId, balance_cents: balanceCents, amount_cents: amountCents, max_balance_cents: maxBalanceCents },
    });
    this.name = 'BalanceLimitExceededError';
  }
}
