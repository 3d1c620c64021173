import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '@fairlead/contracts';
import { DeciderSpecification } from '@fairlead/event-sourcing/testing';
import { LevelPositionTakenError, NicheExistsError, NicheNotFoundError, NicheVersionConflictError, NoActiveLevelsError } from './errors';
import { eventIds } from './ids';
import type { Level } from './niche';
import { nicheDecider, type DecidedNicheEvent } from './niche.decider';

const actor = SYSTEM_ACTOR;
const given = DeciderSpecification.for(nicheDecider);
const created: DecidedNicheEvent = { type: 'NicheCreated', data: { niche_id: 'n', name: 'Roofing', auto_distribute: true, actor } };
const level = (n: number, active = true): Level => ({ level_id: `l${n}`, name: `L${n}`, order_position: n, max_recipients: 1, price_per_lead_cents: 100 * n, active });
const added = (l: Level): DecidedNicheEvent => ({ type: 'CompetitionLevelAdded', data: { niche_id: 'n', ...l, actor } });
const claim = (lead: string) => ({ type: 'claim_start_level' as const, niche_id: 'n', lead_id: lead });

describe('niche decider: configuration', () => {
  it('creates a niche once, under its deterministic id; a repeat is nothing, other values NICHE_EXISTS', () => {
    given([]).when({ type: 'create_niche', niche_id: 'n', name: 'Roofing', auto_distribute: true, actor }).then([{ ...created, id: eventIds.nicheCreated('n') }]);
    given([created]).when({ type: 'create_niche', niche_id: 'n', name: 'Roofing', auto_distribute: true, actor }).thenNothingHappened();
    given([created]).when({ type: 'create_niche', niche_id: 'n', name: 'Other', auto_distribute: true, actor }).thenThrows(NicheExistsError);
  });

  it('adds a level under its deterministic id; refuses a taken position, an unknown niche, a stale version', () => {
    given([created])
      .when({ type: 'add_level', niche_id: 'n', ...level(1), actor })
      .then([{ ...added(level(1)), id: eventIds.levelAdded('n', 'l1') }]);
    given([created, added(level(1))]).when({ type: 'add_level', niche_id: 'n', ...level(1), level_id: 'other', actor }).thenThrows(LevelPositionTakenError);
    given([]).when({ type: 'update_niche', niche_id: 'n', name: 'X', actor }).thenThrows(NicheNotFoundError);
    given([created, added(level(1))]).when({ type: 'update_niche', niche_id: 'n', name: 'X', expected_version: 0, actor }).thenThrows(NicheVersionConflictError);
  });
});

describe('niche decider: claims', () => {
  it('claims the start level of a lead and moves the pointer; the state knows the claim', () => {
    const [event] = given([created, added(level(1)), added(level(2))]).when(claim('lead-1')).events();
    expect(event).toMatchObject({ type: 'StartLevelClaimed', id: eventIds.startLevelClaimed('lead-1'), data: { start_order_position: 1, next_start_order_position: 2 } });
    const state = given([created, added(level(1)), added(level(2)), event!]).state;
    expect(state.niche?.next_start_order_position).toBe(2);
    expect(state.claims.get('lead-1')).toMatchObject({ niche_id: 'n', start_order_position: 1 });
  });

  it('a lead claimed before is answered by its claim: nothing happens', () => {
    const [event] = given([created, added(level(1))]).when(claim('lead-1')).events();
    given([created, added(level(1)), event!]).when(claim('lead-1')).thenNothingHappened();
    given([created, added(level(1)), event!]).when({ type: 'claim_start_levels', niche_id: 'n', lead_ids: ['lead-1'] }).thenNothingHappened();
  });

  it('refuses a claim in a niche without an active level or that does not exist', () => {
    given([created, added(level(1, false))]).when(claim('lead-1')).thenThrows(NoActiveLevelsError);
    given([]).when(claim('lead-1')).thenThrows(NicheNotFoundError);
  });

  it('a batch claims its new leads in order, as one by one would, and leaves the ones claimed before alone', () => {
    const levels = [created, added(level(1)), added(level(2)), added(level(3))];
    const [first] = given(levels).when(claim('a')).events();
    const batch = given([...levels, first!]).when({ type: 'claim_start_levels', niche_id: 'n', lead_ids: ['b', 'a', 'c', 'd'] }).events();
    expect(batch.map((e) => e.type === 'StartLevelClaimed' && [e.data.lead_id, e.data.start_order_position])).toEqual([
      ['b', 2],
      ['c', 3],
      ['d', 1],
    ]);
    // A batch in a niche without an active level claims nobody (each lead's answer says why), and refuses nothing.
    given([created, added(level(1, false))]).when({ type: 'claim_start_levels', niche_id: 'n', lead_ids: ['x', 'y'] }).thenNothingHappened();
  });
});
