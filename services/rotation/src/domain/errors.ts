/**
 * The rotation service's typed errors. Each keeps a stable `code` (it travels in NATS
 * error replies) and an HTTP status (via the platform's AppError family) for the edges.
 */
import { ConflictError, NotFoundError, PreconditionFailedError } from '@fairlead/platform';

export class NicheNotFoundError extends NotFoundError {
  constructor(readonly nicheId: string) {
    super(`niche ${nicheId} does not exist`, { code: 'NICHE_NOT_FOUND', details: { niche_id: nicheId } });
    this.name = 'NicheNotFoundError';
  }
}

/** A create for an id that already holds a niche with other values. */
export class NicheExistsError extends ConflictError {
  constructor(readonly nicheId: string) {
    super(`niche ${nicheId} already exists with other values`, { code: 'NICHE_EXISTS', details: { niche_id: nicheId } });
    this.name = 'NicheExistsError';
  }
}

export class LevelNotFoundError extends NotFoundError {
  constructor(
    readonly nicheId: string,
    readonly levelId: string,
  ) {
    super(`level ${levelId} is not a level of niche ${nicheId}`, { code: 'LEVEL_NOT_FOUND', details: { niche_id: nicheId, level_id: levelId } });
    this.name = 'LevelNotFoundError';
  }
}

/** The level id is already used, with other values or by another niche (level ids are global). */
export class LevelExistsError extends ConflictError {
  constructor(
    readonly levelId: string,
    detail: string,
  ) {
    super(`level ${levelId} already exists ${detail}`, { code: 'LEVEL_EXISTS', details: { level_id: levelId } });
    this.name = 'LevelExistsError';
  }
}

/** Each order_position is held by one level of a niche. */
export class LevelPositionTakenError extends ConflictError {
  constructor(
    readonly nicheId: string,
    readonly orderPosition: number,
  ) {
    super(`niche ${nicheId} already has a level at order_position ${orderPosition}`, {
      code: 'LEVEL_POSITION_TAKEN',
      details: { niche_id: nicheId, order_position: orderPosition },
    });
    this.name = 'LevelPositionTakenError';
  }
}

/** The caller's expected_version is not the niche's version. */
export class NicheVersionConflictError extends PreconditionFailedError {
  constructor(
    readonly nicheId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`niche ${nicheId}: expected version ${expected}, actual ${actual}`, {
      code: 'NICHE_VERSION_CONFLICT',
      details: { niche_id: nicheId, expected_version: expected, actual_version: actual },
    });
    this.name = 'NicheVersionConflictError';
  }
}

/** A start level cannot be claimed in a niche without an active level. */
export class NoActiveLevelsError extends ConflictError {
  constructor(readonly nicheId: string) {
    super(`niche ${nicheId} has no active level`, { code: 'NO_ACTIVE_LEVELS', details: { niche_id: nicheId } });
    this.name = 'NoActiveLevelsError';
  }
}

/** The lead's start level was already claimed in another niche; a lead belongs to one niche. */
export class LeadClaimedElsewhereError extends ConflictError {
  constructor(
    readonly leadId: string,
    readonly claimedNicheId: string,
  ) {
    super(`lead ${leadId} already has a start level in niche ${claimedNicheId}`, {
      code: 'LEAD_CLAIMED_IN_OTHER_NICHE',
      details: { lead_id: leadId, niche_id: claimedNicheId },
    });
    this.name = 'LeadClaimedElsewhereError';
  }
}
