import { describe, expect, it } from 'vitest';
import { SkipReason } from '@fairlead/contracts';
import { skipLabel } from './labels';

describe('the demo’s words for a skipped provider', () => {
  it('says what happened: a decline names the price, an assignment elsewhere names the level', () => {
    expect(skipLabel('insufficient_balance', { priceCents: 4900 })).toBe("declined: balance below this level's $49.00");
    expect(skipLabel('already_assigned', { assignedIn: 'Gold' })).toBe('already has this lead (Gold)');
    expect(skipLabel('daily_cap')).toBe('daily cap reached');
  });

  it('has words for every reason, and never the bare word "duplicate"', () => {
    for (const reason of SkipReason.options) expect(skipLabel(reason)).not.toMatch(/^(skipped: )?duplicate$/);
  });
});
