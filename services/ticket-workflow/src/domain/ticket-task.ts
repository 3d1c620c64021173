import { conflict, ERROR_CODES } from './errors';
import { nextStage, requireExisting, requireOpen, type Actor, type TicketEvent, type TicketState } from './ticket.decider';

/**
 * The task of a ticket's current stage: queued for the next stage's worker type, taken by
 * one worker, and — when that worker fails, stops, goes silent past its lease, or is let
 * go by the coordinator — released back to its queue (the same task, in its old place).
 */

/** Why a taken task went back to its queue. */
export type ReleaseCause = 'released' | 'worker_stopped' | 'lease_expired' | 'resumed';

export type TaskEvent =
  | { type: 'TicketQueued'; data: { taskId: string; workerType: string; at: string } }
  | { type: 'TicketTaskTaken'; data: { taskId: string; workerType: string; workerId: string; at: string } }
  | { type: 'TicketTaskReleased'; data: { taskId: string; workerType: string; workerId: string; cause: ReleaseCause; reason: string | null; at: string } }
  | { type: 'TicketTaskLeaseRenewed'; data: { taskId: string; workerId: string; at: string } };

export type TaskCommand =
  | { type: 'QueueTask'; ticketId: string; taskId: string; workerType: string; at: string }
  /** `openDependencies`: the ticket's dependencies still open (a blocked ticket is not handed out). */
  | { type: 'TakeTask'; ticketId: string; taskId: string; worker: Actor; openDependencies?: readonly string[]; at: string }
  /**
   * Puts a taken task back in its queue. `expectedHolder`: only if that worker holds it.
   * `leaseMs` (cause lease_expired): only if the holder showed no life for that long.
   */
  | { type: 'ReleaseTask'; ticketId: string; cause: ReleaseCause; reason?: string; expectedHolder?: string; leaseMs?: number; at: string }
  | { type: 'RenewTaskLease'; ticketId: string; workerId: string; at: string }
  /**
   * Gets a ticket's work going again: a task held by a worker that is no longer at work
   * (`holderActive` false: stopped, unknown or silent past its lease) goes back to its
   * queue; a ticket with no task is queued for its next stage (`taskId`).
   */
  | { type: 'ResumeTicket'; ticketId: string; taskId: string; holderActive: boolean; reason?: string; at: string };

export function decideTaskCommand(command: TaskCommand, state: TicketState): TicketEvent[] {
  switch (command.type) {
    case 'QueueTask': {
      requireExisting(state, command.ticketId);
      requireOpen(state, 'be queued');
      if (state.task) {
        throw conflict(
          ERROR_CODES.taskAlreadyQueued,
          `ticket ${state.ticketId} is already queued for '${state.task.workerType}' (task ${state.task.taskId}${state.task.takenBy ? `, taken by ${state.task.takenBy}` : ', waiting'})`,
        );
      }
      const next = nextStage(state);
      if (next === undefined) throw conflict(ERROR_CODES.planComplete, `ticket ${state.ticketId} has no stage left to do; close it instead`);
      // Queued for another type, the taker could never complete it and the ticket would be stuck.
      if (command.workerType !== next) {
        throw conflict(ERROR_CODES.wrongWorkerType, `ticket ${state.ticketId}'s next stage is '${next}'; queue it for '${next}', not '${command.workerType}'`);
      }
      return [{ type: 'TicketQueued', data: { taskId: command.taskId, workerType: command.workerType, at: command.at } }];
    }
    case 'TakeTask': {
      const task = state.task;
      if (!state.exists || state.closed || !task || task.taskId !== command.taskId || task.takenBy !== null || task.workerType !== command.worker.workerType) {
        throw conflict(ERROR_CODES.taskNotAvailable, `task ${command.taskId} is no longer available`);
      }
      if (command.openDependencies && command.openDependencies.length > 0) {
        throw conflict(ERROR_CODES.ticketBlocked, `ticket ${state.ticketId} waits for ${command.openDependencies.join(', ')}`);
      }
      return [{ type: 'TicketTaskTaken', data: { taskId: task.taskId, workerType: task.workerType, workerId: command.worker.workerId, at: command.at } }];
    }
    case 'ReleaseTask': {
      requireExisting(state, command.ticketId);
      const task = state.task;
      if (!task?.takenBy) throw conflict(ERROR_CODES.taskNotHeld, `ticket ${command.ticketId} has no task taken by a worker`);
      if (command.expectedHolder !== undefined && task.takenBy !== command.expectedHolder) {
        throw conflict(ERROR_CODES.taskNotHeld, `the task of ticket ${command.ticketId} is held by ${task.takenBy}, not ${command.expectedHolder}`);
      }
      if (command.cause === 'lease_expired') {
        const idleMs = Date.parse(command.at) - Date.parse(task.lastActivityAt ?? task.takenAt ?? command.at);
        if (idleMs < (command.leaseMs ?? Number.POSITIVE_INFINITY)) {
          throw conflict(ERROR_CODES.taskLeaseActive, `${task.takenBy} worked on ticket ${command.ticketId} ${Math.round(idleMs / 1000)} s ago; its lease has not expired`);
        }
      }
      return [released(task, command.cause, command.reason ?? null, command.at)];
    }
    case 'RenewTaskLease': {
      requireExisting(state, command.ticketId);
      const task = state.task;
      if (!task || task.takenBy !== command.workerId) {
        throw conflict(ERROR_CODES.taskNotHeld, `worker ${command.workerId} does not hold the task of ticket ${command.ticketId}${task?.takenBy ? ` (${task.takenBy} does)` : ''}`);
      }
      return [{ type: 'TicketTaskLeaseRenewed', data: { taskId: task.taskId, workerId: command.workerId, at: command.at } }];
    }
    case 'ResumeTicket': {
      requireExisting(state, command.ticketId);
      requireOpen(state, 'be resumed');
      const task = state.task;
      if (task?.takenBy) {
        if (command.holderActive) {
          throw conflict(ERROR_CODES.taskInProgress, `ticket ${command.ticketId} is being worked on by ${task.takenBy}; release_task it first if that worker is stuck`);
        }
        return [released(task, 'resumed', command.reason ?? null, command.at)];
      }
      // Already waiting in its queue: nothing to resume.
      if (task) return [];
      const next = nextStage(state);
      if (next === undefined) throw conflict(ERROR_CODES.planComplete, `ticket ${command.ticketId} has no stage left to do; close it instead`);
      return [{ type: 'TicketQueued', data: { taskId: command.taskId, workerType: next, at: command.at } }];
    }
  }
}

function released(task: NonNullable<TicketState['task']>, cause: ReleaseCause, reason: string | null, at: string): TicketEvent {
  return { type: 'TicketTaskReleased', data: { taskId: task.taskId, workerType: task.workerType, workerId: task.takenBy!, cause, reason, at } };
}
