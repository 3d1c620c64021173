import { JetStreamApiError } from '@nats-io/jetstream';
import { ClosedConnectionError, NoRespondersError, RequestError, TimeoutError } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { backoffDelay, isTransient } from './retry';

describe('retry', () => {
  it('takes delays from a list, repeating its last value', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay([10, 20], n))).toEqual([10, 20, 20, 20]);
    expect(backoffDelay((n) => n * 7, 3)).toBe(21);
  });

  it('defaults to a capped exponential backoff with jitter', () => {
    expect(backoffDelay(undefined, 1)).toBeGreaterThanOrEqual(40);
    expect(backoffDelay(undefined, 1)).toBeLessThanOrEqual(60);
    expect(backoffDelay(undefined, 30)).toBeLessThanOrEqual(2_400);
  });

  it('retries timeouts, no responders and unavailable JetStream, not refusals or a closed connection', () => {
    expect(isTransient(new TimeoutError())).toBe(true);
    expect(isTransient(new RequestError('no responders', { cause: new NoRespondersError('x') }))).toBe(true);
    expect(isTransient(new Error('wrapped', { cause: new TimeoutError() }))).toBe(true);
    expect(isTransient(new JetStreamApiError({ code: 503, err_code: 10008, description: 'unavailable' }))).toBe(true);
    expect(isTransient(new JetStreamApiError({ code: 400, err_code: 10071, description: 'wrong last sequence' }))).toBe(false);
    expect(isTransient(new ClosedConnectionError())).toBe(false);
    expect(isTransient(new Error('anything else'))).toBe(false);
  });
});
