import { describe, expect, it } from 'vitest';
import { checkLru } from './lru-check';

const c = (provider_id: string, last_received_at: string | null) => ({ provider_id, subscription_id: `${provider_id}-s`, last_received_at });
const pick = (provider_id: string) => ({ provider_id, subscription_id: `${provider_id}-s` });

describe('checkLru', () => {
  it('accepts never-served first, then oldest, then provider id, with the picks at the head', () => {
    const candidates = [c('p9', null), c('p2', '2026-01-01T00:00:00Z'), c('p1', '2026-01-02T00:00:00Z'), c('p3', '2026-01-02T00:00:00Z')];
    expect(checkLru({ candidates, picks: [pick('p9'), pick('p2')] })).toEqual({ lru_check: 'ok', violations: [] });
  });

  it('flags a pick that skips a less recently served candidate', () => {
    const verdict = checkLru({ candidates: [c('p1', '2026-01-01T00:00:00Z'), c('p2', '2026-01-02T00:00:00Z')], picks: [pick('p2')] });
    expect(verdict.lru_check).toBe('violated');
    expect(verdict.violations).toEqual(['pick 1 is p2 but the least recently served eligible candidate left was p1']);
  });

  it('flags a candidate list out of LRU order, and picks beyond the list', () => {
    const verdict = checkLru({ candidates: [c('p1', '2026-01-02T00:00:00Z'), c('p2', null)], picks: [pick('p1'), pick('p2'), pick('p3')] });
    expect(verdict.lru_check).toBe('violated');
    expect(verdict.violations).toHaveLength(2);
    expect(verdict.violations[1]).toMatch(/p3 is beyond/);
  });
});
