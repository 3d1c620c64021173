import { describe, expect, it } from 'vitest';
import { bucketOf, leadAssignedKey } from './consumers';

describe('LeadAssigned consumer key', () => {
  it("is the lead's bucket: a lead's assignments to different providers share one key (one batch)", () => {
    for (let lead = 0; lead < 50; lead++) {
      const assignments = ['p-a', 'p-b', 'p-c', 'p-d'].map((provider) => ({ data: { lead_id: `lead-${lead}`, provider_id: provider } }));
      const keys = new Set(assignments.map((message) => leadAssignedKey(message, 4)));
      expect(keys.size).toBe(1);
    }
  });

  it('spreads leads over every bucket', () => {
    const used = new Set(Array.from({ length: 200 }, (_, n) => bucketOf(`lead-${n}`, 4)));
    expect([...used].sort()).toEqual([0, 1, 2, 3]);
  });
});
