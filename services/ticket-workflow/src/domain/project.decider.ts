import type { Decider } from '@fairlead/event-sourcing';
import { conflict, ERROR_CODES, invalid, notFound } from './errors';
import { formatTicketId } from './names';

/**
 * The project aggregate (stream `project-<id>`): its key, name, directory and the
 * per-project ticket sequence. Numbers are handed out by appending to this stream with its
 * expected version, so two tickets never get the same number; a number whose ticket was
 * never created leaves a gap, which readers tolerate. The key itself is reserved on its own
 * stream (project-key.ts) in the same transaction. A deleted project keeps its sequence,
 * so registering it again never reuses a ticket id.
 */

export type ProjectEvent =
  | { type: 'ProjectRegistered'; data: { projectId: string; key: string; name: string; directory: string | null; at: string } }
  | { type: 'ProjectTicketNumberAssigned'; data: { number: number; ticketId: string; at: string } }
  | { type: 'ProjectUpdated'; data: { name: string; directory: string | null; at: string } }
  | { type: 'ProjectKeyChanged'; data: { from: string; to: string; at: string } }
  | { type: 'ProjectDeleted'; data: { at: string } };

export type ProjectCommand =
  | { type: 'RegisterProject'; projectId: string; key: string; name: string; directory: string | null; at: string }
  | { type: 'AssignTicketNumber'; at: string }
  /** A number the caller chose (an explicit ticket id); the sequence continues after the highest. */
  | { type: 'ClaimTicketNumber'; number: number; at: string }
  /** `key`: a new key (ProjectKeyChanged before ProjectUpdated); name and directory as given, else kept. */
  | { type: 'UpdateProject'; key?: string; name?: string; directory?: string | null; at: string }
  | { type: 'ChangeProjectKey'; key: string; at: string }
  /** `openTickets`: the project's open tickets as the read models show them (the guard). */
  | { type: 'DeleteProject'; openTickets: readonly string[]; at: string }
  /**
   * The number of a new ticket: registers the project first when it does not exist (with
   * `register`'s key and name), then assigns the next number — or `claim`s the caller's
   * ticket id, whose key must be the project's.
   */
  | { type: 'NumberNewTicket'; register: { projectId: string; key: string; name: string }; claim?: { key: string; number: number }; at: string };

export interface ProjectState {
  exists: boolean;
  deleted: boolean;
  projectId: string;
  key: string;
  /** Every key it ever had (its tickets' ids carry them), current one last. */
  keys: readonly string[];
  name: string;
  directory: string | null;
  lastNumber: number;
}

export const initialProjectState = (): ProjectState => ({ exists: false, deleted: false, projectId: '', key: '', keys: [], name: '', directory: null, lastNumber: 0 });

export function evolveProject(state: ProjectState, event: ProjectEvent): ProjectState {
  switch (event.type) {
    case 'ProjectRegistered': {
      const keys = state.keys.includes(event.data.key) ? state.keys : [...state.keys, event.data.key];
      return { ...state, exists: true, deleted: false, projectId: event.data.projectId, key: event.data.key, keys, name: event.data.name, directory: event.data.directory };
    }
    case 'ProjectTicketNumberAssigned':
      return { ...state, lastNumber: Math.max(state.lastNumber, event.data.number) };
    case 'ProjectUpdated':
      return { ...state, name: event.data.name, directory: event.data.directory };
    case 'ProjectKeyChanged':
      return { ...state, key: event.data.to, keys: state.keys.includes(event.data.to) ? state.keys : [...state.keys, event.data.to] };
    case 'ProjectDeleted':
      return { ...state, deleted: true };
  }
}

function requireActive(state: ProjectState): void {
  if (!state.exists) throw notFound(ERROR_CODES.projectNotFound, 'project is not registered');
  if (state.deleted) throw conflict(ERROR_CODES.projectDeleted, `project ${state.projectId} was deleted; register it again to use it`);
}

export function decideProject(command: ProjectCommand, state: ProjectState): ProjectEvent[] {
  switch (command.type) {
    case 'RegisterProject': {
      if (state.exists && !state.deleted) {
        // Registering the same project again is a no-op, so callers may "ensure" it.
        if (state.key === command.key && state.directory === command.directory) return [];
        throw conflict(
          ERROR_CODES.projectAlreadyRegistered,
          `project ${command.projectId} is already registered with key ${state.key}${state.directory ? ` and directory ${state.directory}` : ''}; change it with update_project`,
        );
      }
      return [{ type: 'ProjectRegistered', data: { projectId: command.projectId, key: command.key, name: command.name, directory: command.directory, at: command.at } }];
    }
    case 'AssignTicketNumber': {
      requireActive(state);
      const number = state.lastNumber + 1;
      return [{ type: 'ProjectTicketNumberAssigned', data: { number, ticketId: formatTicketId(state.key, number), at: command.at } }];
    }
    case 'ClaimTicketNumber': {
      requireActive(state);
      if (!Number.isSafeInteger(command.number) || command.number < 1) throw invalid(ERROR_CODES.validation, `a ticket number is a positive whole number, not ${command.number}`);
      return [{ type: 'ProjectTicketNumberAssigned', data: { number: command.number, ticketId: formatTicketId(state.key, command.number), at: command.at } }];
    }
    case 'UpdateProject': {
      requireActive(state);
      const rekeyed = command.key === undefined ? [] : decideProject({ type: 'ChangeProjectKey', key: command.key, at: command.at }, state);
      const name = command.name ?? state.name;
      const directory = command.directory === undefined ? state.directory : command.directory;
      if (name === state.name && directory === state.directory) return rekeyed;
      return [...rekeyed, { type: 'ProjectUpdated', data: { name, directory, at: command.at } }];
    }
    case 'ChangeProjectKey': {
      requireActive(state);
      if (command.key === state.key) return [];
      return [{ type: 'ProjectKeyChanged', data: { from: state.key, to: command.key, at: command.at } }];
    }
    case 'DeleteProject': {
      requireActive(state);
      if (command.openTickets.length > 0) {
        const shown = command.openTickets.slice(0, 10).join(', ');
        throw conflict(
          ERROR_CODES.projectHasOpenTickets,
          `project ${state.projectId} has ${command.openTickets.length} open ticket(s) (${shown}${command.openTickets.length > 10 ? ', …' : ''}); close them first`,
        );
      }
      return [{ type: 'ProjectDeleted', data: { at: command.at } }];
    }
    case 'NumberNewTicket': {
      const registered = state.exists ? [] : decideProject({ type: 'RegisterProject', ...command.register, directory: null, at: command.at }, state);
      const current = registered.reduce(evolveProject, state);
      const { claim } = command;
      if (claim && claim.key !== current.key) {
        throw invalid(
          ERROR_CODES.ticketIdMismatch,
          `ticket_id ${formatTicketId(claim.key, claim.number)} does not match project ${command.register.projectId}, whose ticket ids start with ${current.key}-`,
        );
      }
      const numbered = decideProject(claim ? { type: 'ClaimTicketNumber', number: claim.number, at: command.at } : { type: 'AssignTicketNumber', at: command.at }, current);
      return [...registered, ...numbered];
    }
  }
}

/** The project as one value: what the application handles commands with. */
export const projectDecider: Decider<ProjectCommand, ProjectEvent, ProjectState> = { initialState: initialProjectState, evolve: evolveProject, decide: decideProject };
