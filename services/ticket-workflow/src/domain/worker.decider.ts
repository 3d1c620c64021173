import type { Decider } from '@fairlead/event-sourcing';
import { conflict, ERROR_CODES, notFound } from './errors';

/**
 * The worker aggregate (stream `worker-<id>`): a registered agent of one worker type
 * and its status. A worker that finishes or fails has stopped; that becomes a
 * coordinator event (`worker_stopped`) until the coordinator marks it processed.
 */

export const WORKER_STATUSES = ['spawning', 'active', 'idle', 'finished', 'failed'] as const;
export type WorkerStatus = (typeof WORKER_STATUSES)[number];

const STOPPED: ReadonlySet<WorkerStatus> = new Set(['finished', 'failed']);
export const isStopped = (status: WorkerStatus): boolean => STOPPED.has(status);
/** Statuses in which a worker can be given tasks. */
export const isAvailable = (status: WorkerStatus): boolean => status === 'active' || status === 'idle';

export const queueNameOf = (workerType: string): string => `queue:${workerType}`;

export type WorkerEvent =
  | { type: 'WorkerRegistered'; data: { workerId: string; workerType: string; status: WorkerStatus; queueName: string; at: string } }
  | { type: 'WorkerStatusChanged'; data: { from: WorkerStatus; to: WorkerStatus; reason: string | null; at: string } }
  | { type: 'WorkerStopped'; data: { status: WorkerStatus; reason: string; at: string } }
  | { type: 'WorkerStopProcessed'; data: { at: string } };

export type WorkerCommand =
  | { type: 'RegisterWorker'; workerId: string; workerType: string; status: WorkerStatus; at: string }
  | { type: 'ChangeWorkerStatus'; status: WorkerStatus; reason?: string; at: string }
  | { type: 'MarkWorkerStopProcessed'; at: string };

export interface WorkerState {
  exists: boolean;
  workerId: string;
  workerType: string;
  status: WorkerStatus;
  stopped: boolean;
  stopProcessed: boolean;
}

export const initialWorkerState = (): WorkerState => ({ exists: false, workerId: '', workerType: '', status: 'spawning', stopped: false, stopProcessed: false });

export function evolveWorker(state: WorkerState, event: WorkerEvent): WorkerState {
  switch (event.type) {
    case 'WorkerRegistered':
      return { ...initialWorkerState(), exists: true, workerId: event.data.workerId, workerType: event.data.workerType, status: event.data.status, stopped: isStopped(event.data.status) };
    case 'WorkerStatusChanged':
      return { ...state, status: event.data.to };
    case 'WorkerStopped':
      return { ...state, stopped: true };
    case 'WorkerStopProcessed':
      return { ...state, stopProcessed: true };
  }
}

export function decideWorker(command: WorkerCommand, state: WorkerState): WorkerEvent[] {
  switch (command.type) {
    case 'RegisterWorker': {
      if (state.exists) {
        if (state.workerType === command.workerType && !state.stopped) return [];
        throw conflict(
          ERROR_CODES.workerAlreadyRegistered,
          `worker ${command.workerId} is already registered as '${state.workerType}' (${state.status}); register a new worker id`,
        );
      }
      return [{ type: 'WorkerRegistered', data: { workerId: command.workerId, workerType: command.workerType, status: command.status, queueName: queueNameOf(command.workerType), at: command.at } }];
    }
    case 'ChangeWorkerStatus': {
      if (!state.exists) throw notFound(ERROR_CODES.workerNotFound, 'worker is not registered');
      if (state.stopped) throw conflict(ERROR_CODES.workerStopped, `worker ${state.workerId} has stopped (${state.status}); its status cannot change`);
      if (command.status === state.status) return [];
      if (command.status === 'spawning') {
        throw conflict(ERROR_CODES.validation, `worker ${state.workerId} is ${state.status}; it cannot go back to spawning`);
      }
      const events: WorkerEvent[] = [{ type: 'WorkerStatusChanged', data: { from: state.status, to: command.status, reason: command.reason ?? null, at: command.at } }];
      if (isStopped(command.status)) {
        events.push({ type: 'WorkerStopped', data: { status: command.status, reason: command.reason ?? (command.status === 'finished' ? 'finished' : 'failed'), at: command.at } });
      }
      return events;
    }
    case 'MarkWorkerStopProcessed': {
      if (!state.exists || !state.stopped) throw notFound(ERROR_CODES.eventNotFound, `worker ${state.workerId || '?'} has no stop to mark processed`);
      return state.stopProcessed ? [] : [{ type: 'WorkerStopProcessed', data: { at: command.at } }];
    }
  }
}

/** A worker as one value: what the application handles commands with. */
export const workerDecider: Decider<WorkerCommand, WorkerEvent, WorkerState> = { initialState: initialWorkerState, evolve: evolveWorker, decide: decideWorker };
