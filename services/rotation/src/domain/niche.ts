/**
 * The niche aggregate (`niche-<id>`): its name, auto-distribution flag, competition
 * levels and the rotation pointer. Pure: `evolveNiche` folds events, `decideNiche`
 * turns a configuration command into events (the claim lives in claim.ts).
 */
import type { Actor, DistributionEventData } from '@fairlead/contracts';
import { LevelExistsError, LevelNotFoundError, LevelPositionTakenError, NicheExistsError, NicheNotFoundError, NicheVersionConflictError } from './errors';

export interface Level {
  level_id: string;
  name: string;
  order_position: number;
  max_recipients: number;
  price_per_lead_cents: number;
  active: boolean;
}

export interface Niche {
  niche_id: string;
  name: string;
  auto_distribute: boolean;
  /** Every level, ordered by order_position. */
  levels: Level[];
  /** The pointer: the next lead starts at the first active level at or after this position (wrapping). */
  next_start_order_position: number;
  /** Version of the niche's stream (its last event's). */
  version: number;
}

export type NicheState = Niche | null;

type EventOf<T extends NicheEventType> = { type: T; data: DistributionEventData<T> };
export type NicheEventType = 'NicheCreated' | 'NicheUpdated' | 'CompetitionLevelAdded' | 'CompetitionLevelUpdated' | 'StartLevelClaimed';
export type NicheEvent = { [T in NicheEventType]: EventOf<T> }[NicheEventType];

export const NICHE_EVENT_TYPES: ReadonlySet<string> = new Set<NicheEventType>([
  'NicheCreated',
  'NicheUpdated',
  'CompetitionLevelAdded',
  'CompetitionLevelUpdated',
  'StartLevelClaimed',
]);

const byPosition = (a: Level, b: Level) => a.order_position - b.order_position;

/** Applies one event; `version` is that event's stream version. */
export function evolveNiche(state: NicheState, event: NicheEvent, version: number): NicheState {
  if (event.type === 'NicheCreated') {
    const d = event.data;
    return { niche_id: d.niche_id, name: d.name, auto_distribute: d.auto_distribute, levels: [], next_start_order_position: 1, version };
  }
  if (!state) return state;
  switch (event.type) {
    case 'NicheUpdated':
      return { ...state, name: event.data.name ?? state.name, auto_distribute: event.data.auto_distribute ?? state.auto_distribute, version };
    case 'CompetitionLevelAdded': {
      const { niche_id: _n, actor: _a, ...level } = event.data;
      return { ...state, levels: [...state.levels, level].sort(byPosition), version };
    }
    case 'CompetitionLevelUpdated': {
      const d = event.data;
      const levels = state.levels.map((l) =>
        l.level_id === d.level_id
          ? {
              ...l,
              name: d.name ?? l.name,
              max_recipients: d.max_recipients ?? l.max_recipients,
              price_per_lead_cents: d.price_per_lead_cents ?? l.price_per_lead_cents,
              active: d.active ?? l.active,
            }
          : l,
      );
      return { ...state, levels, version };
    }
    case 'StartLevelClaimed':
      return { ...state, next_start_order_position: event.data.next_start_order_position, version };
  }
}

export type NicheCommand =
  | { type: 'create_niche'; niche_id: string; name: string; auto_distribute: boolean; actor: Actor }
  | { type: 'update_niche'; niche_id: string; name?: string; auto_distribute?: boolean; expected_version?: number; actor: Actor }
  | ({ type: 'add_level'; niche_id: string; actor: Actor } & Level)
  | {
      type: 'update_level';
      niche_id: string;
      level_id: string;
      name?: string;
      max_recipients?: number;
      price_per_lead_cents?: number;
      active?: boolean;
      expected_version?: number;
      actor: Actor;
    };

const sameLevel = (a: Level, b: Level) =>
  a.name === b.name &&
  a.order_position === b.order_position &&
  a.max_recipients === b.max_recipients &&
  a.price_per_lead_cents === b.price_per_lead_cents &&
  a.active === b.active;

/** The events a configuration command produces against the current state; [] when it changes nothing. */
export function decideNiche(command: NicheCommand, state: NicheState): NicheEvent[] {
  if (command.type === 'create_niche') {
    if (state) {
      // A retried create with the same values is answered as done, not refused.
      if (state.name === command.name && state.auto_distribute === command.auto_distribute) return [];
      throw new NicheExistsError(command.niche_id);
    }
    return [{ type: 'NicheCreated', data: { niche_id: command.niche_id, name: command.name, auto_distribute: command.auto_distribute, actor: command.actor } }];
  }
  if (!state) throw new NicheNotFoundError(command.niche_id);
  if ('expected_version' in command && command.expected_version !== undefined && command.expected_version !== state.version) {
    throw new NicheVersionConflictError(state.niche_id, command.expected_version, state.version);
  }
  switch (command.type) {
    case 'update_niche': {
      const data: DistributionEventData<'NicheUpdated'> = { niche_id: state.niche_id, actor: command.actor };
      if (command.name !== undefined && command.name !== state.name) data.name = command.name;
      if (command.auto_distribute !== undefined && command.auto_distribute !== state.auto_distribute) data.auto_distribute = command.auto_distribute;
      return data.name === undefined && data.auto_distribute === undefined ? [] : [{ type: 'NicheUpdated', data }];
    }
    case 'add_level': {
      const { type: _t, niche_id: _n, actor, ...level } = command;
      const existing = state.levels.find((l) => l.level_id === level.level_id);
      if (existing) {
        if (sameLevel(existing, level)) return [];
        throw new LevelExistsError(level.level_id, 'with other values');
      }
      if (state.levels.some((l) => l.order_position === level.order_position)) throw new LevelPositionTakenError(state.niche_id, level.order_position);
      return [{ type: 'CompetitionLevelAdded', data: { niche_id: state.niche_id, ...level, actor } }];
    }
    case 'update_level': {
      const level = state.levels.find((l) => l.level_id === command.level_id);
      if (!level) throw new LevelNotFoundError(state.niche_id, command.level_id);
      const data: DistributionEventData<'CompetitionLevelUpdated'> = { niche_id: state.niche_id, level_id: level.level_id, actor: command.actor };
      if (command.name !== undefined && command.name !== level.name) data.name = command.name;
      if (command.max_recipients !== undefined && command.max_recipients !== level.max_recipients) data.max_recipients = command.max_recipients;
      if (command.price_per_lead_cents !== undefined && command.price_per_lead_cents !== level.price_per_lead_cents) {
        data.price_per_lead_cents = command.price_per_lead_cents;
      }
      if (command.active !== undefined && command.active !== level.active) data.active = command.active;
      const changed = data.name !== undefined || data.max_recipients !== undefined || data.price_per_lead_cents !== undefined || data.active !== undefined;
      return changed ? [{ type: 'CompetitionLevelUpdated', data }] : [];
    }
  }
}
