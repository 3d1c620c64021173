import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '@fairlead/contracts';
import { decideClaim, decideClaims } from './claim';
import { evolveNiche, type Level, type Niche, type NicheEvent } from './niche';

const actor = SYSTEM_ACTOR;
const level = (n: number, active = true): Level => ({
  level_id: `l${n}`,
  name: `Level ${n}`,
  order_position: n,
  max_recipients: 1,
  price_per_lead_cents: 100 * n,
  active,
});

function niche(levels: Level[], pointer = 1): Niche {
  const events: NicheEvent[] = [
    { type: 'NicheCreated', data: { niche_id: 'n', name: 'N', auto_distribute: true, actor } },
    ...levels.map((l): NicheEvent => ({ type: 'CompetitionLevelAdded', data: { niche_id: 'n', ...l, actor } })),
  ];
  const state = events.reduce<Niche | null>((s, e, i) => evolveNiche(s, e, i), null)!;
  return { ...state, next_start_order_position: pointer };
}

/** Claims `count` leads one after another; returns each start position and traversal. */
function claimMany(state: Niche, count: number): { start: number; traversal: number[] }[] {
  const out: { start: number; traversal: number[] }[] = [];
  let s = state;
  for (let i = 0; i < count; i++) {
    const event = decideClaim(s, `lead-${i}`);
    out.push({ start: event.data.start_order_position, traversal: event.data.traversal.map((l) => l.order_position) });
    s = evolveNiche(s, event, s.version + 1)!;
  }
  return out;
}

describe('claim: start level and traversal', () => {
  it('given 3 active levels, when leads are claimed, then starts go 1,2,3,1,2,3 with circular traversals', () => {
    const claims = claimMany(niche([level(1), level(2), level(3)]), 6);
    expect(claims.map((c) => c.start)).toEqual([1, 2, 3, 1, 2, 3]);
    expect(claims[1]!.traversal).toEqual([2, 3, 1]);
    expect(claims[2]!.traversal).toEqual([3, 1, 2]);
  });

  it('records the pointer after the start, wrapping after the last active level', () => {
    const state = niche([level(1), level(2), level(3)], 3);
    expect(decideClaim(state, 'x').data).toMatchObject({ start_order_position: 3, next_start_order_position: 1 });
  });

  it('skips inactive levels in the start and the traversal', () => {
    const claims = claimMany(niche([level(1), level(2, false), level(3)]), 4);
    expect(claims.map((c) => c.start)).toEqual([1, 3, 1, 3]);
    expect(claims[1]!.traversal).toEqual([3, 1]);
  });

  it('given a pointer at an inactive level, starts at the next active one', () => {
    expect(decideClaim(niche([level(1), level(2, false), level(3)], 2), 'x').data.start_order_position).toBe(3);
  });

  it('given a pointer beyond every active level, wraps to the first', () => {
    expect(decideClaim(niche([level(1), level(2), level(3, false)], 3), 'x').data.start_order_position).toBe(1);
  });

  it('works with gaps in the order positions', () => {
    const claims = claimMany(niche([level(2), level(5), level(9)]), 4);
    expect(claims.map((c) => c.start)).toEqual([2, 5, 9, 2]);
  });

  it('given no active level, refuses with NO_ACTIVE_LEVELS', () => {
    expect(() => decideClaim(niche([level(1, false)]), 'x')).toThrow(expect.objectContaining({ code: 'NO_ACTIVE_LEVELS' }));
    expect(() => decideClaim(niche([]), 'x')).toThrow(expect.objectContaining({ code: 'NO_ACTIVE_LEVELS' }));
  });

  it('traversal levels carry the snapshot without the active flag', () => {
    expect(decideClaim(niche([level(1)]), 'x').data.traversal).toEqual([
      { level_id: 'l1', name: 'Level 1', order_position: 1, max_recipients: 1, price_per_lead_cents: 100 },
    ]);
  });
});

describe('claims of a batch', () => {
  it('given 3 levels and the pointer at 2, when 7 leads are claimed as one batch, then they get what 7 single claims would get, in order', () => {
    const state = niche([level(1), level(2), level(3)], 2);
    const { events, outcomes } = decideClaims(state, ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(events.map((e) => e.data.lead_id)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(events.map((e) => e.data.start_order_position)).toEqual([2, 3, 1, 2, 3, 1, 2]);
    expect(events.map((e) => e.data.next_start_order_position)).toEqual([3, 1, 2, 3, 1, 2, 3]);
    expect(events.map((e) => e.data.traversal.map((l) => l.order_position))).toEqual(claimMany(state, 7).map((c) => c.traversal));
    expect(outcomes.map((o) => ('claimed' in o ? o.claimed : undefined))).toEqual(events);
  });

  it('given no active level, every lead gets NO_ACTIVE_LEVELS and no event is decided', () => {
    const { events, outcomes } = decideClaims(niche([level(1, false)]), ['a', 'b']);
    expect(events).toEqual([]);
    expect(outcomes).toEqual([
      { lead_id: 'a', error: expect.objectContaining({ code: 'NO_ACTIVE_LEVELS' }) },
      { lead_id: 'b', error: expect.objectContaining({ code: 'NO_ACTIVE_LEVELS' }) },
    ]);
  });

  it('given no leads, decides nothing', () => {
    expect(decideClaims(niche([level(1)]), [])).toEqual({ events: [], outcomes: [] });
  });
});
