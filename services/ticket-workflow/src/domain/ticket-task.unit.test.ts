import { describe, expect, it } from 'vitest';
import { ticketDecider } from './deciders';
import { ERROR_CODES, isTicketWorkflowError } from './errors';
import { given } from './given-when-then';
import type { TicketEvent } from './ticket';

const at = '2025-01-01T00:00:00.000Z';
const later = (ms: number) => new Date(Date.parse(at) + ms).toISOString();
const ticketId = 'WEB-001';
const created: TicketEvent[] = [
  { type: 'TicketCreated', data: { ticketId, projectId: 'acme/web', number: 1, title: 'Auth', executionPlan: ['architect', 'developer'], priority: 'medium', at } },
];
const queued: TicketEvent = { type: 'TicketQueued', data: { taskId: 't1', workerType: 'architect', at } };
const taken: TicketEvent = { type: 'TicketTaskTaken', data: { taskId: 't1', workerType: 'architect', workerId: 'arch-1', at } };
const held = [...created, queued, taken];

const codeOf = (error: unknown): string => {
  if (!isTicketWorkflowError(error)) throw error;
  return error.code;
};

describe('a ticket’s task', () => {
  it('is queued only for the next stage’s worker type', () => {
    const error = given(ticketDecider, created).when({ type: 'QueueTask', ticketId, taskId: 't1', workerType: 'developer', at }).error();
    expect(codeOf(error)).toBe(ERROR_CODES.wrongWorkerType);
    expect((error as Error).message).toBe("ticket WEB-001's next stage is 'architect'; queue it for 'architect', not 'developer'");
  });

  it('is not handed out while the ticket waits for open dependencies', () => {
    const error = given(ticketDecider, [...created, queued]).when({ type: 'TakeTask', ticketId, taskId: 't1', worker: { workerType: 'architect', workerId: 'a' }, openDependencies: ['WEB-000'], at }).error();
    expect(codeOf(error)).toBe(ERROR_CODES.ticketBlocked);
  });

  it('goes back to its queue when released: same task, no holder, the cause recorded', () => {
    const events = given(ticketDecider, held).when({ type: 'ReleaseTask', ticketId, cause: 'worker_stopped', reason: 'crashed', expectedHolder: 'arch-1', at }).then();
    expect(events).toEqual([{ type: 'TicketTaskReleased', data: { taskId: 't1', workerType: 'architect', workerId: 'arch-1', cause: 'worker_stopped', reason: 'crashed', at } }]);
    const state = given(ticketDecider, [...held, ...events]).state;
    expect(state.task).toMatchObject({ taskId: 't1', takenBy: null });
    // Another worker of the type can take it now.
    expect(given(ticketDecider, [...held, ...events]).when({ type: 'TakeTask', ticketId, taskId: 't1', worker: { workerType: 'architect', workerId: 'arch-2' }, at }).then()).toHaveLength(1);
  });

  it('is released only when someone holds it, and only from the holder named', () => {
    expect(codeOf(given(ticketDecider, [...created, queued]).when({ type: 'ReleaseTask', ticketId, cause: 'released', at }).error())).toBe(ERROR_CODES.taskNotHeld);
    expect(codeOf(given(ticketDecider, held).when({ type: 'ReleaseTask', ticketId, cause: 'released', expectedHolder: 'arch-2', at }).error())).toBe(ERROR_CODES.taskNotHeld);
  });

  it('is released for an expired lease only when the holder was silent for the whole lease', () => {
    const lease = 60_000;
    const release = (history: TicketEvent[], now: string) => given(ticketDecider, history).when({ type: 'ReleaseTask', ticketId, cause: 'lease_expired', leaseMs: lease, at: now });
    expect(codeOf(release(held, later(lease - 1)).error())).toBe(ERROR_CODES.taskLeaseActive);
    expect(release(held, later(lease)).then()[0]).toMatchObject({ data: { cause: 'lease_expired' } });
    // A comment by the holder, or a renewal, starts the lease again.
    const comment: TicketEvent = { type: 'TicketCommentAdded', data: { commentId: 'c', workerType: 'architect', workerId: 'arch-1', stageNumber: 1, content: 'working', at: later(30_000) } };
    expect(codeOf(release([...held, comment], later(lease)).error())).toBe(ERROR_CODES.taskLeaseActive);
    const renewal = given(ticketDecider, held).when({ type: 'RenewTaskLease', ticketId, workerId: 'arch-1', at: later(50_000) }).then();
    expect(codeOf(release([...held, ...renewal], later(lease + 10_000)).error())).toBe(ERROR_CODES.taskLeaseActive);
    // Someone else's comment does not.
    const other: TicketEvent = { type: 'TicketCommentAdded', data: { commentId: 'c2', workerType: 'coordinator', workerId: 'coordinator', stageNumber: 1, content: 'ping', at: later(30_000) } };
    expect(release([...held, other], later(lease)).then()).toHaveLength(1);
  });

  it('is renewed only by its holder', () => {
    expect(codeOf(given(ticketDecider, held).when({ type: 'RenewTaskLease', ticketId, workerId: 'arch-2', at }).error())).toBe(ERROR_CODES.taskNotHeld);
  });
});

describe('completing a held stage', () => {
  it('is for the holder, a worker of the stage’s type, or an operator', () => {
    const by = (workerId: string, workerType = 'architect', asOperator = false) =>
      given(ticketDecider, held).when({ type: 'CompleteStage', ticketId, stage: 'architect', actor: { workerType, workerId }, asOperator, commentId: 'c', at });
    expect(codeOf(by('intruder').error())).toBe(ERROR_CODES.taskHeldByAnother);
    expect(codeOf(by('dev-1', 'developer').error())).toBe(ERROR_CODES.wrongWorkerType);
    expect(by('arch-1').then().at(-1)).toMatchObject({ type: 'TicketStageCompleted', data: { workerId: 'arch-1' } });
    expect(by('coordinator', 'coordinator', true).then().at(-1)).toMatchObject({ type: 'TicketStageCompleted' });
  });
});

describe('resuming a ticket', () => {
  const resume = (history: TicketEvent[], holderActive: boolean) => given(ticketDecider, history).when({ type: 'ResumeTicket', ticketId, taskId: 't9', holderActive, at });

  it('releases a task whose holder is no longer at work, and leaves one at work alone', () => {
    expect(resume(held, false).then()).toEqual([
      { type: 'TicketTaskReleased', data: { taskId: 't1', workerType: 'architect', workerId: 'arch-1', cause: 'resumed', reason: null, at } },
    ]);
    expect(codeOf(resume(held, true).error())).toBe(ERROR_CODES.taskInProgress);
  });

  it('queues a ticket with no task for its next stage; a waiting task needs nothing', () => {
    expect(resume(created, false).then()).toEqual([{ type: 'TicketQueued', data: { taskId: 't9', workerType: 'architect', at } }]);
    expect(resume([...created, queued], false).then()).toEqual([]);
  });

  it('refuses a closed ticket', () => {
    const closed: TicketEvent = { type: 'TicketClosed', data: { status: 'Stopped', reason: null, commentId: 'c', at } };
    expect(codeOf(resume([...created, closed], false).error())).toBe(ERROR_CODES.ticketClosed);
  });
});
