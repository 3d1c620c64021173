import { conflict, ERROR_CODES, notFound } from './errors';
import { formatTicketId } from './names';

/**
 * The project aggregate (stream `project-<id>`): its key and the per-project ticket
 * sequence. Numbers are handed out by appending to this stream with its expected
 * version, so two tickets never get the same number; a number whose ticket was never
 * created leaves a gap, which readers tolerate.
 */

export type ProjectEvent =
  | { type: 'ProjectRegistered'; data: { projectId: string; key: string; name: string; directory: string | null; at: string } }
  | { type: 'ProjectTicketNumberAssigned'; data: { number: number; ticketId: string; at: string } };

export type ProjectCommand =
  | { type: 'RegisterProject'; projectId: string; key: string; name: string; directory: string | null; at: string }
  | { type: 'AssignTicketNumber'; at: string };

export interface ProjectState {
  exists: boolean;
  projectId: string;
  key: string;
  name: string;
  directory: string | null;
  lastNumber: number;
}

export const initialProjectState = (): ProjectState => ({ exists: false, projectId: '', key: '', name: '', directory: null, lastNumber: 0 });

export function evolveProject(state: ProjectState, event: ProjectEvent): ProjectState {
  switch (event.type) {
    case 'ProjectRegistered':
      return { ...state, exists: true, projectId: event.data.projectId, key: event.data.key, name: event.data.name, directory: event.data.directory };
    case 'ProjectTicketNumberAssigned':
      return { ...state, lastNumber: event.data.number };
  }
}

export function decideProject(command: ProjectCommand, state: ProjectState): ProjectEvent[] {
  switch (command.type) {
    case 'RegisterProject': {
      if (state.exists) {
        // Registering the same project again is a no-op, so callers may "ensure" it.
        if (state.key === command.key && state.directory === command.directory) return [];
        throw conflict(
          ERROR_CODES.projectAlreadyRegistered,
          `project ${command.projectId} is already registered with key ${state.key}${state.directory ? ` and directory ${state.directory}` : ''}`,
        );
      }
      return [{ type: 'ProjectRegistered', data: { projectId: command.projectId, key: command.key, name: command.name, directory: command.directory, at: command.at } }];
    }
    case 'AssignTicketNumber': {
      if (!state.exists) throw notFound(ERROR_CODES.projectNotFound, 'project is not registered');
      const number = state.lastNumber + 1;
      return [{ type: 'ProjectTicketNumberAssigned', data: { number, ticketId: formatTicketId(state.key, number), at: command.at } }];
    }
  }
}
