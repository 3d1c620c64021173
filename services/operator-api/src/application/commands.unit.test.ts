import { describe, expect, it } from 'vitest';
import { problemOfRemote } from './commands';

const status = (code: string) => problemOfRemote(code, 'refused', 'billing').status;

describe("owners' refusals as HTTP problems", () => {
  it.each([
    ['INVALID_REQUEST', 400],
    ['LEAD_NOT_APPROVED', 400],
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

  it('keeps the owner and its code, and calls a stale version a stale ETag', () => {
    const problem = problemOfRemote('NICHE_VERSION_CONFLICT', 'expected 2, actual 3', 'rotation');
    expect(problem.code).toBe('STALE_ETAG');
    expect(problem.details).toEqual({ service: 'rotation', remote_code: 'NICHE_VERSION_CONFLICT' });
  });

  it('points validation issues into the request body', () => {
    const problem = problemOfRemote('INVALID_REQUEST', 'bad', 'fairness', [{ path: ['service_area', 'states', 0], code: 'invalid_string', message: 'two letters' }]);
    expect(problem).toMatchObject({ status: 400, issues: [{ pointer: '/body/service_area/states/0', detail: 'two letters', code: 'invalid_string' }] });
  });
});
