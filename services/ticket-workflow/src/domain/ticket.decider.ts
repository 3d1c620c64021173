import type { Decider } from '@fairlead/event-sourcing';
import { conflict, ERROR_CODES, invalid, notFound } from './errors';
import type { Priority } from './names';
import { decideTaskCommand, type TaskCommand, type TaskEvent } from './ticket-task';

/**
 * The ticket aggregate (stream `ticket-<id>`): an execution plan of worker types run
 * in order, comments, the task of its current stage (queued, taken, released), and closing.
 * Task handling (queue, take, release, lease, resume) lives in ticket-task.ts.
 */

/** Who wrote a comment or did a stage; the coordinator is `coordinator/coordinator`. */
export interface Actor {
  workerType: string;
  workerId: string;
}

export const COORDINATOR: Actor = Object.freeze({ workerType: 'coordinator', workerId: 'coordinator' });

/** Stage number of the description comment (before the first stage) and of closing comments. */
export const DESCRIPTION_STAGE = 0;
export const CLOSING_STAGE = 999;

export type CloseStatus = 'Completed' | 'Stopped';

export type TicketEvent =
  | {
      type: 'TicketCreated';
      data: {
        ticketId: string;
        projectId: string;
        number: number;
        title: string;
        executionPlan: string[];
        priority: Priority;
        /** Set when the ticket came from a template distribution. */
        source?: { distributionId: string; template: string };
        at: string;
      };
    }
  | { type: 'TicketCommentAdded'; data: { commentId: string; workerType: string; workerId: string; stageNumber: number; content: string; at: string } }
  | { type: 'TicketStageCompleted'; data: { stage: string; stageNumber: number; workerType: string; workerId: string; commentId: string | null; at: string } }
  | { type: 'TicketClosed'; data: { status: CloseStatus; reason: string | null; commentId: string; at: string } }
  | { type: 'TicketStageCompletionProcessed'; data: { stageNumber: number; at: string } }
  | TaskEvent;

export type TicketCommand =
  | {
      type: 'CreateTicket';
      ticketId: string;
      projectId: string;
      number: number;
      title: string;
      description: string;
      executionPlan: string[];
      priority: Priority;
      source?: { distributionId: string; template: string };
      commentId: string;
      at: string;
    }
  | { type: 'AddComment'; ticketId: string; commentId: string; actor: Actor; stageNumber: number; content: string; at: string }
  /**
   * Completes the next stage; with `content`, the comment and the stage change are one append.
   * A worker completes only a stage of its own type whose task it holds (or nobody holds);
   * `asOperator` (the coordinator's update_ticket_stage) may complete any next stage.
   */
  | { type: 'CompleteStage'; ticketId: string; stage: string; stageNumber?: number; actor: Actor; asOperator?: boolean; content?: string; commentId: string; at: string }
  | { type: 'CloseTicket'; ticketId: string; status: CloseStatus; reason?: string; commentId: string; at: string }
  | { type: 'MarkStageCompletionProcessed'; ticketId: string; stageNumber: number; at: string }
  | TaskCommand;

export interface PendingTask {
  taskId: string;
  workerType: string;
  queuedAt: string;
  takenBy: string | null;
  takenAt: string | null;
  /** The holder's last sign of life on this task (taking it, a comment, a lease renewal). */
  lastActivityAt: string | null;
}

export interface TicketState {
  exists: boolean;
  ticketId: string;
  projectId: string;
  executionPlan: string[];
  /** How many stages of the plan are done; the next stage is `executionPlan[completedStages]`. */
  completedStages: number;
  /** `Planned`, the last completed worker type, or the close status. */
  lastCompletedStage: string;
  closed: CloseStatus | null;
  task: PendingTask | null;
  /** Stage numbers whose completion the coordinator has marked processed. */
  processedStages: readonly number[];
}

export const initialTicketState = (): TicketState => ({
  exists: false,
  ticketId: '',
  projectId: '',
  executionPlan: [],
  completedStages: 0,
  lastCompletedStage: 'Planned',
  closed: null,
  task: null,
  processedStages: [],
});

export function evolveTicket(state: TicketState, event: TicketEvent): TicketState {
  switch (event.type) {
    case 'TicketCreated':
      return { ...initialTicketState(), exists: true, ticketId: event.data.ticketId, projectId: event.data.projectId, executionPlan: event.data.executionPlan };
    case 'TicketCommentAdded':
      // The holder commenting on its task is working on it: that keeps its lease.
      return state.task?.takenBy === event.data.workerId ? { ...state, task: { ...state.task, lastActivityAt: event.data.at } } : state;
    case 'TicketStageCompleted':
      // The stage's task is done; a new one is queued by the coordinator.
      return { ...state, completedStages: event.data.stageNumber, lastCompletedStage: event.data.stage, task: null };
    case 'TicketQueued':
      return { ...state, task: { taskId: event.data.taskId, workerType: event.data.workerType, queuedAt: event.data.at, takenBy: null, takenAt: null, lastActivityAt: null } };
    case 'TicketTaskTaken':
      return state.task && state.task.taskId === event.data.taskId
        ? { ...state, task: { ...state.task, takenBy: event.data.workerId, takenAt: event.data.at, lastActivityAt: event.data.at } }
        : state;
    case 'TicketTaskReleased':
      return state.task && state.task.taskId === event.data.taskId ? { ...state, task: { ...state.task, takenBy: null, takenAt: null, lastActivityAt: null } } : state;
    case 'TicketTaskLeaseRenewed':
      return state.task && state.task.taskId === event.data.taskId ? { ...state, task: { ...state.task, lastActivityAt: event.data.at } } : state;
    case 'TicketClosed':
      return { ...state, closed: event.data.status, lastCompletedStage: event.data.status, task: null };
    case 'TicketStageCompletionProcessed':
      return { ...state, processedStages: [...state.processedStages, event.data.stageNumber] };
  }
}

/** The next stage of the plan, or undefined when every stage is done. */
export const nextStage = (state: TicketState): string | undefined => state.executionPlan[state.completedStages];

const closingMessage = (status: CloseStatus, reason?: string): string => {
  const base = status === 'Completed' ? 'Ticket completed successfully by coordinator.' : 'Ticket stopped by coordinator due to issues or cancellation.';
  return reason ? `${base} Reason: ${reason}` : base;
};

export function requireExisting(state: TicketState, ticketId: string): void {
  if (!state.exists) throw notFound(ERROR_CODES.ticketNotFound, `ticket ${ticketId} does not exist`);
}

export function requireOpen(state: TicketState, doing: string): void {
  if (state.closed) throw conflict(ERROR_CODES.ticketClosed, `ticket ${state.ticketId} is closed (${state.closed}); it cannot ${doing}`);
}

export function decideTicket(command: TicketCommand, state: TicketState): TicketEvent[] {
  switch (command.type) {
    case 'CreateTicket': {
      if (state.exists) throw conflict(ERROR_CODES.ticketAlreadyExists, `ticket ${command.ticketId} already exists`);
      if (command.executionPlan.length === 0) throw invalid(ERROR_CODES.validation, 'the execution plan needs at least one stage');
      return [
        {
          type: 'TicketCreated',
          data: {
            ticketId: command.ticketId,
            projectId: command.projectId,
            number: command.number,
            title: command.title,
            executionPlan: command.executionPlan,
            priority: command.priority,
            ...(command.source ? { source: command.source } : {}),
            at: command.at,
          },
        },
        // The description is kept as the first comment (stage 0), so a ticket's history reads from it.
        { type: 'TicketCommentAdded', data: { commentId: command.commentId, ...COORDINATOR, stageNumber: DESCRIPTION_STAGE, content: command.description, at: command.at } },
      ];
    }
    case 'AddComment':
      requireExisting(state, command.ticketId);
      return [{ type: 'TicketCommentAdded', data: { commentId: command.commentId, ...command.actor, stageNumber: command.stageNumber, content: command.content, at: command.at } }];
    case 'CompleteStage':
      return completeStage(command, state);
    case 'CloseTicket': {
      requireExisting(state, command.ticketId);
      requireOpen(state, 'be closed again');
      return [
        { type: 'TicketCommentAdded', data: { commentId: command.commentId, ...COORDINATOR, stageNumber: CLOSING_STAGE, content: closingMessage(command.status, command.reason), at: command.at } },
        { type: 'TicketClosed', data: { status: command.status, reason: command.reason ?? null, commentId: command.commentId, at: command.at } },
      ];
    }
    case 'MarkStageCompletionProcessed': {
      requireExisting(state, command.ticketId);
      if (command.stageNumber < 1 || command.stageNumber > state.completedStages) {
        throw notFound(ERROR_CODES.eventNotFound, `ticket ${state.ticketId} has no completed stage ${command.stageNumber}`);
      }
      // Marking twice is a no-op: the coordinator may retry after a lost answer.
      if (state.processedStages.includes(command.stageNumber)) return [];
      return [{ type: 'TicketStageCompletionProcessed', data: { stageNumber: command.stageNumber, at: command.at } }];
    }
    default:
      return decideTaskCommand(command, state);
  }
}

function completeStage(command: Extract<TicketCommand, { type: 'CompleteStage' }>, state: TicketState): TicketEvent[] {
  requireExisting(state, command.ticketId);
  requireOpen(state, 'change stage');
  const expected = nextStage(state);
  const total = state.executionPlan.length;
  if (expected === undefined) {
    throw conflict(ERROR_CODES.planComplete, `ticket ${state.ticketId} has completed all ${total} stages of its plan; close it instead`);
  }
  const number = state.completedStages + 1;
  if (command.stage !== expected || (command.stageNumber !== undefined && command.stageNumber !== number)) {
    const asked = command.stageNumber !== undefined ? `'${command.stage}' (stage ${command.stageNumber})` : `'${command.stage}'`;
    throw conflict(
      ERROR_CODES.stageOutOfOrder,
      `stage ${asked} is not the next stage of ticket ${state.ticketId}: the next is '${expected}' (stage ${number} of ${total}; plan ${state.executionPlan.join(' → ')})`,
    );
  }
  if (!command.asOperator) {
    if (command.actor.workerType !== expected) {
      throw conflict(ERROR_CODES.wrongWorkerType, `stage '${expected}' of ticket ${state.ticketId} is for a '${expected}' worker, not '${command.actor.workerType}'`);
    }
    const holder = state.task?.takenBy;
    if (holder && holder !== command.actor.workerId) {
      throw conflict(
        ERROR_CODES.taskHeldByAnother,
        `stage '${expected}' of ticket ${state.ticketId} is held by worker ${holder}; only ${holder} or an operator (update_ticket_stage) may complete it`,
      );
    }
  }
  const events: TicketEvent[] = [];
  if (command.content !== undefined) {
    events.push({ type: 'TicketCommentAdded', data: { commentId: command.commentId, ...command.actor, stageNumber: number, content: command.content, at: command.at } });
  }
  events.push({
    type: 'TicketStageCompleted',
    data: { stage: expected, stageNumber: number, ...command.actor, commentId: command.content !== undefined ? command.commentId : null, at: command.at },
  });
  return events;
}

/** The ticket as one value: what the application handles commands with. */
export const ticketDecider: Decider<TicketCommand, TicketEvent, TicketState> = { initialState: initialTicketState, evolve: evolveTicket, decide: decideTicket };
