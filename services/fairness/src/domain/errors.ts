import { statusOfCode } from '@fairlead/contracts';
import { AppError } from '@fairlead/platform';

/**
 * Base of the fairness service's typed errors: the platform's error type, its `code` stable
 * (it travels in NATS replies) and its status the error catalogue's for that code.
 */
export class FairnessError extends AppError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, { status: statusOfCode(code), ...(options?.cause === undefined ? {} : { cause: options.cause }) });
    this.name = 'FairnessError';
  }
}

export class SubscriptionNotFoundError extends FairnessError {
  constructor(readonly subscriptionId: string) {
    super('SUBSCRIPTION_NOT_FOUND', `subscription ${subscriptionId} does not exist`);
    this.name = 'SubscriptionNotFoundError';
  }
}

/** A create for an id that already holds a different subscription. */
export class SubscriptionExistsError extends FairnessError {
  constructor(readonly subscriptionId: string) {
    super('SUBSCRIPTION_EXISTS', `subscription ${subscriptionId} already exists with other values`);
    this.name = 'SubscriptionExistsError';
  }
}

/** The caller's expected_version is not the subscription's version. */
export class SubscriptionVersionConflictError extends FairnessError {
  constructor(
    readonly subscriptionId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super('SUBSCRIPTION_VERSION_CONFLICT', `subscription ${subscriptionId}: expected version ${expected}, actual ${actual}`);
    this.name = 'SubscriptionVersionConflictError';
  }
}

/** Cancelled is terminal: a cancelled subscription is neither changed nor reactivated. */
export class SubscriptionCancelledError extends FairnessError {
  constructor(readonly subscriptionId: string) {
    super('SUBSCRIPTION_CANCELLED', `subscription ${subscriptionId} is cancelled`);
    this.name = 'SubscriptionCancelledError';
  }
}

/** The level is not (yet) known as a level of that niche. */
export class LevelNotFoundError extends FairnessError {
  constructor(
    readonly nicheId: string,
    readonly levelId: string,
  ) {
    super('LEVEL_NOT_FOUND', `level ${levelId} is not a level of niche ${nicheId}`);
    this.name = 'LevelNotFoundError';
  }
}

export const isFairnessError = (error: unknown): error is FairnessError => error instanceof FairnessError;
