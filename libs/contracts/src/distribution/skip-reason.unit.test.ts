import { describe, expect, it } from 'vitest';
import { parseDistributionEvent } from './index';

const skipped = (reason: string) => ({ lead_id: 'l', provider_id: 'p', subscription_id: 's', level_id: 'v', reason, detail: '' });

describe('skip reasons', () => {
  it('say what happened: already assigned, a second subscription, a decline, the subscription’s own rules', () => {
    for (const reason of ['insufficient_balance', 'already_assigned', 'duplicate_subscription', 'ineligible_area', 'status', 'daily_cap', 'monthly_cap', 'eligibility_error']) {
      expect(parseDistributionEvent('ProviderSkipped', skipped(reason)).reason).toBe(reason);
    }
  });

  it('still read `duplicate` from events recorded before, and refuse a reason nobody wrote', () => {
    expect(parseDistributionEvent('ProviderSkipped', skipped('duplicate')).reason).toBe('duplicate');
    expect(() => parseDistributionEvent('ProviderSkipped', skipped('declined_elsewhere'))).toThrow();
  });
});
