import { describe, expect, it } from 'vitest';
import { decideOnFailure, DEFAULT_BACKOFF_MS, isBeyondLastAttempt, maxAttemptsFor } from './failure-policy';

describe('failure policy', () => {
  it('retries attempt n after backoffMs[n-1], then dead-letters after the last attempt', () => {
    const backoff = [10, 20, 30];
    expect(maxAttemptsFor(backoff)).toBe(4);
    expect(decideOnFailure(1, backoff, false)).toEqual({ action: 'retry', delayMs: 10 });
    expect(decideOnFailure(2, backoff, false)).toEqual({ action: 'retry', delayMs: 20 });
    expect(decideOnFailure(3, backoff, false)).toEqual({ action: 'retry', delayMs: 30 });
    expect(decideOnFailure(4, backoff, false)).toEqual({ action: 'dead-letter', reason: 'exhausted' });
  });

  it('dead-letters a permanent error on the first attempt', () => {
    expect(decideOnFailure(1, [10, 20], true)).toEqual({ action: 'dead-letter', reason: 'permanent' });
  });

  it('uses 5 s, 15 s, 45 s, 2 min, 5 min by default: six attempts in all', () => {
    expect(DEFAULT_BACKOFF_MS).toEqual([5_000, 15_000, 45_000, 120_000, 300_000]);
    expect(maxAttemptsFor(DEFAULT_BACKOFF_MS)).toBe(6);
    expect(decideOnFailure(5, DEFAULT_BACKOFF_MS, false)).toEqual({ action: 'retry', delayMs: 300_000 });
  });

  it('with no backoff, the first failure is the last attempt', () => {
    expect(decideOnFailure(1, [], false)).toEqual({ action: 'dead-letter', reason: 'exhausted' });
  });

  it('treats deliveries past the last attempt as spent', () => {
    expect(isBeyondLastAttempt(3, [10, 20])).toBe(false);
    expect(isBeyondLastAttempt(4, [10, 20])).toBe(true);
  });
});
