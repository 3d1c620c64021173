import { describe, expect, it } from 'vitest';
import { DeciderSpecification } from '@fairlead/event-sourcing/testing';
import { ERROR_CODES, TicketWorkflowError } from './errors';
import { ticketDecider, type TicketEvent } from './ticket.decider';

const given = DeciderSpecification.for(ticketDecider);

const at = '2025-01-01T00:00:00.000Z';
const architect = { workerType: 'architect', workerId: 'arch-1' };
const developer = { workerType: 'developer', workerId: 'dev-1' };

const created: TicketEvent[] = [
  {
    type: 'TicketCreated',
    data: { ticketId: 'WEB-001', projectId: 'acme/web', number: 1, title: 'Auth', executionPlan: ['architect', 'developer', 'tester'], priority: 'medium', at },
  },
  { type: 'TicketCommentAdded', data: { commentId: 'c0', workerType: 'coordinator', workerId: 'coordinator', stageNumber: 0, content: 'Build auth', at } },
];
const queuedForArchitect: TicketEvent = { type: 'TicketQueued', data: { taskId: 't1', workerType: 'architect', at } };
const architectDone: TicketEvent = { type: 'TicketStageCompleted', data: { stage: 'architect', stageNumber: 1, ...architect, commentId: 'c1', at } };


describe('ticket', () => {
  it('is created with its description as the first comment, in one decision', () => {
    const events = given([])
      .when({
        type: 'CreateTicket',
        ticketId: 'WEB-001',
        projectId: 'acme/web',
        number: 1,
        title: 'Auth',
        description: 'Build auth',
        executionPlan: ['architect', 'developer', 'tester'],
        priority: 'medium',
        commentId: 'c0',
        at,
      })
      .events();
    expect(events).toEqual(created);
    const state = given(events).state;
    expect(state.lastCompletedStage).toBe('Planned');
  });

  it('refuses a second creation of the same ticket', () => {
    const error = given(created)
      .when({ type: 'CreateTicket', ticketId: 'WEB-001', projectId: 'acme/web', number: 1, title: 'x', description: 'x', executionPlan: ['a'], priority: 'low', commentId: 'c', at })
      .thenThrows(TicketWorkflowError);
    expect(error.code).toBe(ERROR_CODES.ticketAlreadyExists);
  });

  it('completes the next stage as a comment and a stage change together', () => {
    const events = given([...created, queuedForArchitect])
      .when({ type: 'CompleteStage', ticketId: 'WEB-001', stage: 'architect', actor: architect, content: 'Design done', commentId: 'c1', at })
      .events();
    expect(events).toEqual([
      { type: 'TicketCommentAdded', data: { commentId: 'c1', ...architect, stageNumber: 1, content: 'Design done', at } },
      architectDone,
    ]);
    const state = given([...created, queuedForArchitect, ...events]).state;
    expect(state.lastCompletedStage).toBe('architect');
    expect(state.task).toBeNull();
  });

  it('refuses a stage that is not the next one in the plan, saying which is', () => {
    const error = given(created).when({ type: 'CompleteStage', ticketId: 'WEB-001', stage: 'developer', actor: developer, content: 'done', commentId: 'c1', at }).thenThrows(TicketWorkflowError);
    expect(error.code).toBe(ERROR_CODES.stageOutOfOrder);
    expect((error as Error).message).toContain("the next is 'architect' (stage 1 of 3");
  });

  it('refuses a stage number that does not match the next stage', () => {
    const error = given([...created, architectDone])
      .when({ type: 'CompleteStage', ticketId: 'WEB-001', stage: 'developer', stageNumber: 3, actor: developer, content: 'done', commentId: 'c2', at })
      .thenThrows(TicketWorkflowError);
    expect(error.code).toBe(ERROR_CODES.stageOutOfOrder);
  });

  it('refuses a stage after the plan is complete', () => {
    const history: TicketEvent[] = [
      ...created,
      architectDone,
      { type: 'TicketStageCompleted', data: { stage: 'developer', stageNumber: 2, ...developer, commentId: null, at } },
      { type: 'TicketStageCompleted', data: { stage: 'tester', stageNumber: 3, workerType: 'tester', workerId: 't', commentId: null, at } },
    ];
    const error = given(history).when({ type: 'CompleteStage', ticketId: 'WEB-001', stage: 'tester', actor: developer, commentId: 'c', at }).thenThrows(TicketWorkflowError);
    expect(error.code).toBe(ERROR_CODES.planComplete);
  });

  it('closes with a closing comment, and a closed ticket takes no more stage changes', () => {
    const events = given(created).when({ type: 'CloseTicket', ticketId: 'WEB-001', status: 'Stopped', reason: 'duplicate', commentId: 'cx', at }).events();
    expect(events.map((e) => e.type)).toEqual(['TicketCommentAdded', 'TicketClosed']);
    expect(events[0]?.data).toMatchObject({ stageNumber: 999, content: 'Ticket stopped by coordinator due to issues or cancellation. Reason: duplicate' });
    const closed = [...created, ...events];
    expect(given(closed).state.lastCompletedStage).toBe('Stopped');
    expect(given(closed).when({ type: 'CompleteStage', ticketId: 'WEB-001', stage: 'architect', actor: architect, commentId: 'c', at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.ticketClosed);
    expect(given(closed).when({ type: 'QueueTask', ticketId: 'WEB-001', taskId: 't', workerType: 'architect', at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.ticketClosed);
    expect(given(closed).when({ type: 'CloseTicket', ticketId: 'WEB-001', status: 'Completed', commentId: 'c', at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.ticketClosed);
  });

  it('queues one task at a time', () => {
    expect(given(created).when({ type: 'QueueTask', ticketId: 'WEB-001', taskId: 't1', workerType: 'architect', at }).events()).toEqual([queuedForArchitect]);
    const error = given([...created, queuedForArchitect]).when({ type: 'QueueTask', ticketId: 'WEB-001', taskId: 't2', workerType: 'architect', at }).thenThrows(TicketWorkflowError);
    expect(error.code).toBe(ERROR_CODES.taskAlreadyQueued);
  });

  it('gives a task to one worker only', () => {
    const taken = given([...created, queuedForArchitect]).when({ type: 'TakeTask', ticketId: 'WEB-001', taskId: 't1', worker: architect, at }).events();
    expect(taken).toEqual([{ type: 'TicketTaskTaken', data: { taskId: 't1', workerType: 'architect', workerId: 'arch-1', at } }]);
    const second = given([...created, queuedForArchitect, ...taken]).when({ type: 'TakeTask', ticketId: 'WEB-001', taskId: 't1', worker: { workerType: 'architect', workerId: 'arch-2' }, at }).thenThrows(TicketWorkflowError);
    expect(second.code).toBe(ERROR_CODES.taskNotAvailable);
  });

  it('does not give a task to a worker of another type', () => {
    const error = given([...created, queuedForArchitect]).when({ type: 'TakeTask', ticketId: 'WEB-001', taskId: 't1', worker: developer, at }).thenThrows(TicketWorkflowError);
    expect(error.code).toBe(ERROR_CODES.taskNotAvailable);
  });

  it('marks a stage completion processed once; again is a no-op', () => {
    const events = given([...created, architectDone]).when({ type: 'MarkStageCompletionProcessed', ticketId: 'WEB-001', stageNumber: 1, at }).events();
    expect(events).toEqual([{ type: 'TicketStageCompletionProcessed', data: { stageNumber: 1, at } }]);
    expect(given([...created, architectDone, ...events]).when({ type: 'MarkStageCompletionProcessed', ticketId: 'WEB-001', stageNumber: 1, at }).events()).toEqual([]);
    expect(given([...created, architectDone]).when({ type: 'MarkStageCompletionProcessed', ticketId: 'WEB-001', stageNumber: 2, at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.eventNotFound);
  });

  it('takes comments from workers with their stage number', () => {
    const events = given(created).when({ type: 'AddComment', ticketId: 'WEB-001', commentId: 'c9', actor: developer, stageNumber: 2, content: 'note', at }).events();
    expect(events).toEqual([{ type: 'TicketCommentAdded', data: { commentId: 'c9', ...developer, stageNumber: 2, content: 'note', at } }]);
    expect(given([]).when({ type: 'AddComment', ticketId: 'WEB-001', commentId: 'c9', actor: developer, stageNumber: 2, content: 'note', at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.ticketNotFound);
  });
});
