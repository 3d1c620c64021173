import type { Decider } from '@fairlead/event-sourcing';
import { conflict, ERROR_CODES } from './errors';

/**
 * A project key's reservation (stream `projectkey-<KEY>`): who holds the key. Appended in
 * the same transaction as the project's registration or key change, with the stream's
 * expected version, so two projects can never both get one key — however they race.
 * A key stays with its project when the project moves to another key (its old ticket ids
 * must stay unique); it is released only by deleting a project that never numbered a ticket.
 */
export type ProjectKeyEvent =
  | { type: 'ProjectKeyReserved'; data: { key: string; projectId: string; at: string } }
  | { type: 'ProjectKeyReleased'; data: { key: string; projectId: string; at: string } };

export type ProjectKeyCommand =
  | { type: 'ReserveProjectKey'; key: string; projectId: string; at: string }
  | { type: 'ReleaseProjectKey'; key: string; projectId: string; at: string };

export interface ProjectKeyState {
  holder: string | null;
}

export const initialProjectKeyState = (): ProjectKeyState => ({ holder: null });

export function evolveProjectKey(state: ProjectKeyState, event: ProjectKeyEvent): ProjectKeyState {
  switch (event.type) {
    case 'ProjectKeyReserved':
      return { holder: event.data.projectId };
    case 'ProjectKeyReleased':
      return { holder: null };
  }
}

export function decideProjectKey(command: ProjectKeyCommand, state: ProjectKeyState): ProjectKeyEvent[] {
  switch (command.type) {
    case 'ReserveProjectKey':
      if (state.holder === command.projectId) return [];
      if (state.holder !== null) throw keyTaken(command.key, state.holder);
      return [{ type: 'ProjectKeyReserved', data: { key: command.key, projectId: command.projectId, at: command.at } }];
    case 'ReleaseProjectKey':
      if (state.holder !== command.projectId) return [];
      return [{ type: 'ProjectKeyReleased', data: { key: command.key, projectId: command.projectId, at: command.at } }];
  }
}

export const keyTaken = (key: string, holder: string) =>
  conflict(ERROR_CODES.projectKeyTaken, `the key ${key} is already used by project ${holder}; choose another key (keys are never shared: ticket ids must stay unique)`);

/** A key's reservation as one value: what the application handles commands with. */
export const projectKeyDecider: Decider<ProjectKeyCommand, ProjectKeyEvent, ProjectKeyState> = { initialState: initialProjectKeyState, evolve: evolveProjectKey, decide: decideProjectKey };
