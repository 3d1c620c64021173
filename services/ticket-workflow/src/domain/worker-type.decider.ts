import type { Decider } from '@fairlead/event-sourcing';
import { conflict, ERROR_CODES, notFound } from './errors';

/**
 * A worker type as a managed entity (stream `workertype-<name>`): what workers of the
 * type do (description) and the instructions template handed to each one that registers.
 * Deleting is guarded by the caller's view of who still needs the type.
 */
export type WorkerTypeEvent =
  | { type: 'WorkerTypeCreated'; data: { name: string; description: string; instructions: string | null; at: string } }
  | { type: 'WorkerTypeUpdated'; data: { description: string; instructions: string | null; at: string } }
  | { type: 'WorkerTypeDeleted'; data: { at: string } };

export type WorkerTypeCommand =
  | { type: 'CreateWorkerType'; name: string; description: string; instructions: string | null; at: string }
  | { type: 'UpdateWorkerType'; name: string; description?: string; instructions?: string | null; at: string }
  /** `inUseBy`: active workers and open tickets still needing the type (the guard). */
  | { type: 'DeleteWorkerType'; name: string; inUseBy: readonly string[]; at: string };

export interface WorkerTypeState {
  exists: boolean;
  name: string;
  description: string;
  instructions: string | null;
}

export const initialWorkerTypeState = (): WorkerTypeState => ({ exists: false, name: '', description: '', instructions: null });

export function evolveWorkerType(state: WorkerTypeState, event: WorkerTypeEvent): WorkerTypeState {
  switch (event.type) {
    case 'WorkerTypeCreated':
      return { exists: true, name: event.data.name, description: event.data.description, instructions: event.data.instructions };
    case 'WorkerTypeUpdated':
      return { ...state, description: event.data.description, instructions: event.data.instructions };
    case 'WorkerTypeDeleted':
      return { ...state, exists: false };
  }
}

export function decideWorkerType(command: WorkerTypeCommand, state: WorkerTypeState): WorkerTypeEvent[] {
  switch (command.type) {
    case 'CreateWorkerType':
      if (state.exists) throw conflict(ERROR_CODES.workerTypeExists, `worker type '${command.name}' already exists; change it with update_worker_type`);
      return [{ type: 'WorkerTypeCreated', data: { name: command.name, description: command.description, instructions: command.instructions, at: command.at } }];
    case 'UpdateWorkerType': {
      if (!state.exists) throw notFound(ERROR_CODES.workerTypeNotFound, `worker type '${command.name}' does not exist; create it with create_worker_type`);
      const description = command.description ?? state.description;
      const instructions = command.instructions === undefined ? state.instructions : command.instructions;
      if (description === state.description && instructions === state.instructions) return [];
      return [{ type: 'WorkerTypeUpdated', data: { description, instructions, at: command.at } }];
    }
    case 'DeleteWorkerType':
      if (!state.exists) throw notFound(ERROR_CODES.workerTypeNotFound, `worker type '${command.name}' does not exist`);
      if (command.inUseBy.length > 0) {
        throw conflict(ERROR_CODES.workerTypeInUse, `worker type '${command.name}' is still needed by ${command.inUseBy.slice(0, 10).join(', ')}${command.inUseBy.length > 10 ? ', …' : ''}`);
      }
      return [{ type: 'WorkerTypeDeleted', data: { at: command.at } }];
  }
}

/** A worker type as one value: what the application handles commands with. */
export const workerTypeDecider: Decider<WorkerTypeCommand, WorkerTypeEvent, WorkerTypeState> = { initialState: initialWorkerTypeState, evolve: evolveWorkerType, decide: decideWorkerType };
