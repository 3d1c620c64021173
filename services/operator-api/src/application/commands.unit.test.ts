import { describe, expect, it } from 'vitest';
import { problemOfRemote } from './commands';

// As an owner that sends no status answers (the catalogue gives it); one that does is answered by what it sent.
const status = (code: string) => problemOfRemote({ code, message: 'refused' }, 'billing').status;

describe("owners' refusals as HTTP problems", () => {
  it.each([
    ['INVALID_REQUEST', 400],
    // The owner (intake) answers it as a conflict with the lead's state.
    ['LEAD_NOT_APPROVED', 409],
    ['LEAD_INVALID', 400],
    ['PROVIDER_NOT_FOUND', 404],
    ['CHARGE_NOT_FOUND', 404],
    ['NICHE_VERSION_CONFLICT', 412],
    ['SUBSCRIPTION_VERSION_CONFLICT', 412],
    ['PROVIDER_EXISTS', 409],
    ['LEVEL_POSITION_TAKEN', 409],
    ['REQUEST_ID_USED', 409],
    ['ALREADY_REFUNDED', 409],
    ['NOTHING_TO_REFUND', 409],
    ['INTERNAL_ERROR', 502],
  ])('%s → %i', (code, expected) => {
    expect(status(code)).toBe(expected);
  });

  it('answers by the status the refusal carries, not by how its code is spelled', () => {
    expect(problemOfRemote({ code: 'LOOKS_LIKE_NOT_FOUND', message: 'x', status: 409 }, 'billing').status).toBe(409);
    expect(problemOfRemote({ code: 'BRAND_NEW_REFUSAL', message: 'x', status: 404 }, 'billing')).toMatchObject({ status: 404, code: 'BRAND_NEW_REFUSAL' });
    expect(problemOfRemote({ code: 'SOMETHING_NEW', message: 'x' }, 'billing')).toMatchObject({ status: 502, code: 'UPSTREAM_ERROR' });
  });

  it('keeps the owner and its code, and calls a stale version a stale ETag', () => {
    const problem = problemOfRemote({ code: 'NICHE_VERSION_CONFLICT', message: 'expected 2, actual 3', status: 412 }, 'rotation');
    expect(problem.code).toBe('STALE_ETAG');
    expect(problem.details).toEqual({ service: 'rotation', remote_code: 'NICHE_VERSION_CONFLICT' });
  });

  it('points validation issues into the request body', () => {
    const problem = problemOfRemote({ code: 'INVALID_REQUEST', message: 'bad', status: 400, issues: [{ path: ['service_area', 'states', 0], code: 'invalid_string', message: 'two letters' }] }, 'fairness');
    expect(problem).toMatchObject({ status: 400, issues: [{ pointer: '/body/service_area/states/0', detail: 'two letters', code: 'invalid_string' }] });
  });
});
