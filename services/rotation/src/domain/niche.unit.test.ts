import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '@fairlead/contracts';
import { decideNiche, evolveNiche, type Level, type NicheEvent, type NicheState } from './niche';

const actor = SYSTEM_ACTOR;
const given = (events: NicheEvent[]): NicheState => events.reduce<NicheState>((s, e, i) => evolveNiche(s, e, i), null);
const created: NicheEvent = { type: 'NicheCreated', data: { niche_id: 'roofing', name: 'Roofing', auto_distribute: true, actor } };
const level = (n: number, over: Partial<Level> = {}): Level => ({
  level_id: `l${n}`,
  name: `Level ${n}`,
  order_position: n,
  max_recipients: 2,
  price_per_lead_cents: 1000 * n,
  active: true,
  ...over,
});
const added = (l: Level): NicheEvent => ({ type: 'CompetitionLevelAdded', data: { niche_id: 'roofing', ...l, actor } });

describe('niche: create', () => {
  it('given nothing, when created, then NicheCreated with the pointer at 1', () => {
    const events = decideNiche({ type: 'create_niche', niche_id: 'roofing', name: 'Roofing', auto_distribute: true, actor }, null);
    expect(events).toEqual([created]);
    expect(given(events)).toEqual({ niche_id: 'roofing', name: 'Roofing', auto_distribute: true, levels: [], next_start_order_position: 1, version: 0 });
  });

  it('given the niche, when created again with the same values, then nothing (a retry)', () => {
    expect(decideNiche({ type: 'create_niche', niche_id: 'roofing', name: 'Roofing', auto_distribute: true, actor }, given([created]))).toEqual([]);
  });

  it('given the niche, when created with other values, then NICHE_EXISTS', () => {
    expect(() => decideNiche({ type: 'create_niche', niche_id: 'roofing', name: 'Other', auto_distribute: true, actor }, given([created]))).toThrow(
      expect.objectContaining({ code: 'NICHE_EXISTS' }),
    );
  });
});

describe('niche: update', () => {
  it('records only the fields that change', () => {
    const events = decideNiche({ type: 'update_niche', niche_id: 'roofing', name: 'Roofing', auto_distribute: false, actor }, given([created]));
    expect(events).toEqual([{ type: 'NicheUpdated', data: { niche_id: 'roofing', auto_distribute: false, actor } }]);
    expect(given([created, ...events])?.auto_distribute).toBe(false);
  });

  it('changes nothing when nothing differs', () => {
    expect(decideNiche({ type: 'update_niche', niche_id: 'roofing', name: 'Roofing', actor }, given([created]))).toEqual([]);
  });

  it('refuses an unknown niche and a stale expected_version', () => {
    expect(() => decideNiche({ type: 'update_niche', niche_id: 'x', name: 'X', actor }, null)).toThrow(expect.objectContaining({ code: 'NICHE_NOT_FOUND' }));
    expect(() => decideNiche({ type: 'update_niche', niche_id: 'roofing', name: 'X', expected_version: 3, actor }, given([created]))).toThrow(
      expect.objectContaining({ code: 'NICHE_VERSION_CONFLICT', actual: 0 }),
    );
  });
});

describe('niche: levels', () => {
  it('adds levels, kept in order_position order', () => {
    const state = given([created, added(level(2)), added(level(1))]);
    expect(state?.levels.map((l) => l.level_id)).toEqual(['l1', 'l2']);
    expect(state?.version).toBe(2);
  });

  it('a repeated add with the same values is nothing; with other values LEVEL_EXISTS', () => {
    const state = given([created, added(level(1))]);
    expect(decideNiche({ type: 'add_level', niche_id: 'roofing', actor, ...level(1) }, state)).toEqual([]);
    expect(() => decideNiche({ type: 'add_level', niche_id: 'roofing', actor, ...level(1, { max_recipients: 9 }) }, state)).toThrow(
      expect.objectContaining({ code: 'LEVEL_EXISTS' }),
    );
  });

  it('refuses a second level at a taken order_position', () => {
    const state = given([created, added(level(1))]);
    expect(() => decideNiche({ type: 'add_level', niche_id: 'roofing', actor, ...level(1, { level_id: 'other' }) }, state)).toThrow(
      expect.objectContaining({ code: 'LEVEL_POSITION_TAKEN' }),
    );
  });

  it('updates a level with the changed fields only; unknown level is LEVEL_NOT_FOUND', () => {
    const state = given([created, added(level(1))]);
    const events = decideNiche({ type: 'update_level', niche_id: 'roofing', level_id: 'l1', active: false, max_recipients: 2, actor }, state);
    expect(events).toEqual([{ type: 'CompetitionLevelUpdated', data: { niche_id: 'roofing', level_id: 'l1', active: false, actor } }]);
    expect(given([created, added(level(1)), ...events])?.levels[0]).toMatchObject({ active: false, max_recipients: 2 });
    expect(() => decideNiche({ type: 'update_level', niche_id: 'roofing', level_id: 'l9', active: false, actor }, state)).toThrow(
      expect.objectContaining({ code: 'LEVEL_NOT_FOUND' }),
    );
  });
});
