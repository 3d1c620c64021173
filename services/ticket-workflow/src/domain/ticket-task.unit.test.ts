import { describe, expect, it } from 'vitest';
import { DeciderSpecification } from '@fairlead/event-sourcing/testing';
import { ERROR_CODES, TicketWorkflowError } from './errors';
import { ticketDecider, type TicketEvent } from './ticket.decider';

const given = DeciderSpecification.for(ticketDecider);

const at = '2025-01-01T00:00:00.000Z';
const later = (ms: number) => new Date(Date.parse(at) + ms).toISOString();
const ticketId = 'WEB-001';
const created: TicketEvent[] = [
  { type: 'TicketCreated', data: { ticketId, projectId: 'acme/web', number: 1, title: 'Auth', executionPlan: ['architect', 'developer'], priority: 'medium', at } },
];
const queued: TicketEvent = { type: 'TicketQueued', data: { taskId: 't1', workerType: 'architect', at } };
const taken: TicketEvent = { type: 'TicketTaskTaken', data: { taskId: 't1', workerType: 'architect', workerId: 'arch-1', at } };
const held = [...created, queued, taken];


describe('a ticket’s task', () => {
  it('is queued only for the next stage’s worker type', () => {
    const error = given(created).when({ type: 'QueueTask', ticketId, taskId: 't1', workerType: 'developer', at }).thenThrows(TicketWorkflowError);
    expect(error.code).toBe(ERROR_CODES.wrongWorkerType);
    expect((error as Error).message).toBe("ticket WEB-001's next stage is 'architect'; queue it for 'architect', not 'developer'");
  });

  it('is not handed out while the ticket waits for open dependencies', () => {
    const error = given([...created, queued]).when({ type: 'TakeTask', ticketId, taskId: 't1', worker: { workerType: 'architect', workerId: 'a' }, openDependencies: ['WEB-000'], at }).thenThrows(TicketWorkflowError);
    expect(error.code).toBe(ERROR_CODES.ticketBlocked);
  });

  it('goes back to its queue when released: same task, no holder, the cause recorded', () => {
    const events = given(held).when({ type: 'ReleaseTask', ticketId, cause: 'worker_stopped', reason: 'crashed', expectedHolder: 'arch-1', at }).events();
    expect(events).toEqual([{ type: 'TicketTaskReleased', data: { taskId: 't1', workerType: 'architect', workerId: 'arch-1', cause: 'worker_stopped', reason: 'crashed', at } }]);
    const state = given([...held, ...events]).state;
    expect(state.task).toMatchObject({ taskId: 't1', takenBy: null });
    // Another worker of the type can take it now.
    expect(given([...held, ...events]).when({ type: 'TakeTask', ticketId, taskId: 't1', worker: { workerType: 'architect', workerId: 'arch-2' }, at }).events()).toHaveLength(1);
  });

  it('is released only when someone holds it, and only from the holder named', () => {
    expect(given([...created, queued]).when({ type: 'ReleaseTask', ticketId, cause: 'released', at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.taskNotHeld);
    expect(given(held).when({ type: 'ReleaseTask', ticketId, cause: 'released', expectedHolder: 'arch-2', at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.taskNotHeld);
  });

  it('is released for an expired lease only when the holder was silent for the whole lease', () => {
    const lease = 60_000;
    const release = (history: TicketEvent[], now: string) => given(history).when({ type: 'ReleaseTask', ticketId, cause: 'lease_expired', leaseMs: lease, at: now });
    expect(release(held, later(lease - 1)).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.taskLeaseActive);
    expect(release(held, later(lease)).events()[0]).toMatchObject({ data: { cause: 'lease_expired' } });
    // A comment by the holder, or a renewal, starts the lease again.
    const comment: TicketEvent = { type: 'TicketCommentAdded', data: { commentId: 'c', workerType: 'architect', workerId: 'arch-1', stageNumber: 1, content: 'working', at: later(30_000) } };
    expect(release([...held, comment], later(lease)).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.taskLeaseActive);
    const renewal = given(held).when({ type: 'RenewTaskLease', ticketId, workerId: 'arch-1', at: later(50_000) }).events();
    expect(release([...held, ...renewal], later(lease + 10_000)).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.taskLeaseActive);
    // Someone else's comment does not.
    const other: TicketEvent = { type: 'TicketCommentAdded', data: { commentId: 'c2', workerType: 'coordinator', workerId: 'coordinator', stageNumber: 1, content: 'ping', at: later(30_000) } };
    expect(release([...held, other], later(lease)).events()).toHaveLength(1);
  });

  it('is renewed only by its holder', () => {
    expect(given(held).when({ type: 'RenewTaskLease', ticketId, workerId: 'arch-2', at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.taskNotHeld);
  });
});

describe('completing a held stage', () => {
  it('is for the holder, a worker of the stage’s type, or an operator', () => {
    const by = (workerId: string, workerType = 'architect', asOperator = false) =>
      given(held).when({ type: 'CompleteStage', ticketId, stage: 'architect', actor: { workerType, workerId }, asOperator, commentId: 'c', at });
    expect(by('intruder').thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.taskHeldByAnother);
    expect(by('dev-1', 'developer').thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.wrongWorkerType);
    expect(by('arch-1').events().at(-1)).toMatchObject({ type: 'TicketStageCompleted', data: { workerId: 'arch-1' } });
    expect(by('coordinator', 'coordinator', true).events().at(-1)).toMatchObject({ type: 'TicketStageCompleted' });
  });
});

describe('resuming a ticket', () => {
  const resume = (history: TicketEvent[], holderActive: boolean) => given(history).when({ type: 'ResumeTicket', ticketId, taskId: 't9', holderActive, at });

  it('releases a task whose holder is no longer at work, and leaves one at work alone', () => {
    expect(resume(held, false).events()).toEqual([
      { type: 'TicketTaskReleased', data: { taskId: 't1', workerType: 'architect', workerId: 'arch-1', cause: 'resumed', reason: null, at } },
    ]);
    expect(resume(held, true).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.taskInProgress);
  });

  it('queues a ticket with no task for its next stage; a waiting task needs nothing', () => {
    expect(resume(created, false).events()).toEqual([{ type: 'TicketQueued', data: { taskId: 't9', workerType: 'architect', at } }]);
    expect(resume([...created, queued], false).events()).toEqual([]);
  });

  it('refuses a closed ticket', () => {
    const closed: TicketEvent = { type: 'TicketClosed', data: { status: 'Stopped', reason: null, commentId: 'c', at } };
    expect(resume([...created, closed], false).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.ticketClosed);
  });
});
