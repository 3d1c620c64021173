/**
 * Tasks on the real event store: a task goes back to its queue when its worker fails or
 * finishes, when the coordinator releases it, or when its holder is silent past the lease
 * (each recorded as TicketTaskReleased with its cause); queue_task refuses a type that is
 * not the next stage's; only the holder (or an operator) completes a held stage; a stalled
 * ticket can be resumed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { ERROR_CODES } from '../domain/index';
import type { WorkflowContext } from './context';
import { releaseExpiredTasks, releaseTask, renewTaskLease, resumeTicket, updateWorkerStatusReleasing } from './leases';
import { getQueueTasks, queueTask, takeNextTask } from './queues';
import * as S from './schemas';
import { addComment, completeStage, updateStage } from './stages';
import { startTicketWorkflow, type RunningWorkflow } from './start';
import { createTicket, getTicket } from './tickets';
import { registerWorker } from './workers';

const LEASE_MS = 60_000;
let db: TestDatabase;
let store: PostgresEventStore;
let workflow: RunningWorkflow;
let ctx: WorkflowContext;
// The clock is the only fake: leases are about time.
let now = Date.parse('2025-06-01T10:00:00Z');

beforeAll(async () => {
  db = await createTestDatabase('tw_tasks');
  store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  workflow = await startTicketWorkflow({ store, pool: db.pool, clock: () => new Date(now), taskLeaseMs: LEASE_MS });
  ctx = workflow.ctx;
});
afterAll(async () => {
  await workflow?.stop();
  await store?.close();
  await db?.drop();
});

const worker = (worker_id: string, worker_type: string) => registerWorker(ctx, S.RegisterWorkerInput.parse({ worker_id, worker_type }));
const queued = async (project: string, plan: string[]) => {
  const t = await createTicket(ctx, S.CreateTicketInput.parse({ project_id: project, title: 'T', description: 'D', execution_plan: plan }));
  await queueTask(ctx, S.QueueTaskInput.parse({ ticket_id: t.ticket_id, worker_type: plan[0] }));
  return t.ticket_id;
};
const take = (worker_id: string) => takeNextTask(ctx, S.TakeNextTaskInput.parse({ worker_id }));
const refusal = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a refusal');
};
const releases = async (ticketId: string) =>
  (await store.readStream(`ticket-${ticketId}`)).filter((e) => e.type === 'TicketTaskReleased').map((e) => e.data as { workerId: string; cause: string; reason: string });

describe('a task held by a worker that stops', () => {
  it('goes back to its queue when the worker fails, recorded as an event, and another worker takes it', async () => {
    await worker('dev-a', 'developer');
    await worker('dev-b', 'developer');
    const ticketId = await queued('fail/project', ['developer']);
    expect((await take('dev-a')).task?.ticket_id).toBe(ticketId);
    const failed = await updateWorkerStatusReleasing(ctx, S.UpdateWorkerStatusInput.parse({ worker_id: 'dev-a', status: 'failed', reason: 'out of memory' }));
    expect(failed).toMatchObject({ status: 'failed', released_tickets: [ticketId] });
    expect(await releases(ticketId)).toEqual([expect.objectContaining({ workerId: 'dev-a', cause: 'worker_stopped', reason: 'out of memory' })]);
    expect((await getQueueTasks(ctx, S.QueueTasksInput.parse({ worker_type: 'developer' }))).map((t) => t.ticket_id)).toContain(ticketId);
    expect((await take('dev-b')).task?.ticket_id).toBe(ticketId);
    // The one who got it completes it.
    const done = await completeStage(ctx, S.CompleteStageInput.parse({ ticket_id: ticketId, worker_type: 'developer', worker_id: 'dev-b', content: 'done' }));
    expect(done.last_completed_stage).toBe('developer');
  });

  it('goes back when the worker finishes too, and a released ticket can be queued again without TASK_ALREADY_QUEUED on a stale holder', async () => {
    await worker('qa-a', 'tester');
    await worker('qa-b', 'tester');
    const ticketId = await queued('finish/project', ['tester']);
    await take('qa-a');
    await updateWorkerStatusReleasing(ctx, S.UpdateWorkerStatusInput.parse({ worker_id: 'qa-a', status: 'finished' }));
    const ticket = await getTicket(ctx, ticketId);
    expect(ticket.queued_task).toMatchObject({ worker_type: 'tester', taken_by: null });
    // Queuing again says it is waiting, not that a stopped worker holds it.
    expect(await refusal(queueTask(ctx, S.QueueTaskInput.parse({ ticket_id: ticketId, worker_type: 'tester' })))).toMatchObject({
      code: ERROR_CODES.taskAlreadyQueued,
      message: expect.stringContaining('waiting'),
    });
    expect((await take('qa-b')).task?.ticket_id).toBe(ticketId);
  });
});

describe('leases', () => {
  it('release a task whose holder is silent past the lease; a comment or a renewal keeps it', async () => {
    await worker('doc-a', 'documenter');
    await worker('doc-b', 'documenter');
    const kept = await queued('lease/kept', ['documenter']);
    await take('doc-a');
    const silent = await queued('lease/silent', ['documenter']);
    await take('doc-a');
    now += LEASE_MS / 2;
    await addComment(ctx, S.AddCommentInput.parse({ ticket_id: kept, worker_type: 'documenter', worker_id: 'doc-a', stage_number: 1, content: 'halfway' }));
    now += LEASE_MS / 2 + 1;
    // (Tasks of earlier tests expire with it; only these two matter here.)
    const expired = await releaseExpiredTasks(ctx, LEASE_MS);
    expect(expired).toContainEqual({ ticket_id: silent, cause: 'lease_expired' });
    expect(expired.map((r) => r.ticket_id)).not.toContain(kept);
    expect(await releases(silent)).toEqual([expect.objectContaining({ workerId: 'doc-a', cause: 'lease_expired' })]);
    expect((await getTicket(ctx, kept)).queued_task?.taken_by).toBe('doc-a');
    await renewTaskLease(ctx, S.RenewTaskLeaseInput.parse({ ticket_id: kept, worker_id: 'doc-a' }));
    now += LEASE_MS - 1;
    expect((await releaseExpiredTasks(ctx, LEASE_MS)).map((r) => r.ticket_id)).not.toContain(kept);
    expect((await take('doc-b')).task?.ticket_id).toBe(silent);
    // Only the holder renews.
    expect(await refusal(renewTaskLease(ctx, S.RenewTaskLeaseInput.parse({ ticket_id: kept, worker_id: 'doc-b' })))).toMatchObject({ code: ERROR_CODES.taskNotHeld });
  });

  it('release the task of a holder that stopped without its tasks being released (the keeper catches up)', async () => {
    await worker('ops-a', 'operator-bot');
    const ticketId = await queued('lease/orphan', ['operator-bot']);
    await take('ops-a');
    // The status change alone (as if the process died before releasing).
    const { updateWorkerStatus } = await import('./workers');
    await updateWorkerStatus(ctx, S.UpdateWorkerStatusInput.parse({ worker_id: 'ops-a', status: 'failed' }));
    expect(await releaseExpiredTasks(ctx, LEASE_MS)).toContainEqual({ ticket_id: ticketId, cause: 'worker_stopped' });
  });

  it('lets the coordinator release a task explicitly, with a reason', async () => {
    await worker('arc-a', 'architect');
    const ticketId = await queued('release/explicit', ['architect']);
    await take('arc-a');
    expect(await refusal(releaseTask(ctx, S.ReleaseTaskInput.parse({ ticket_id: ticketId, worker_id: 'someone-else' })))).toMatchObject({ code: ERROR_CODES.taskNotHeld });
    const released = await releaseTask(ctx, S.ReleaseTaskInput.parse({ ticket_id: ticketId, reason: 'stuck on a question' }));
    expect(released.queued_task).toMatchObject({ taken_by: null });
    expect(await releases(ticketId)).toEqual([expect.objectContaining({ workerId: 'arc-a', cause: 'released', reason: 'stuck on a question' })]);
    expect(await refusal(releaseTask(ctx, S.ReleaseTaskInput.parse({ ticket_id: ticketId })))).toMatchObject({ code: ERROR_CODES.taskNotHeld });
  });
});

describe('queueing and completing', () => {
  it('refuses queue_task for a worker type that is not the next stage, storing nothing', async () => {
    await worker('rev-a', 'reviewer');
    await worker('bld-a', 'builder');
    const t = await createTicket(ctx, S.CreateTicketInput.parse({ project_id: 'order/project', title: 'T', description: 'D', execution_plan: ['builder', 'reviewer'] }));
    const before = await store.readStream(`ticket-${t.ticket_id}`);
    const error = await refusal(queueTask(ctx, S.QueueTaskInput.parse({ ticket_id: t.ticket_id, worker_type: 'reviewer' })));
    expect(error).toMatchObject({ code: ERROR_CODES.wrongWorkerType, message: `ticket ${t.ticket_id}'s next stage is 'builder'; queue it for 'builder', not 'reviewer'` });
    expect(await store.readStream(`ticket-${t.ticket_id}`)).toHaveLength(before.length);
    // The right type still works afterwards: nothing is stranded.
    await queueTask(ctx, S.QueueTaskInput.parse({ ticket_id: t.ticket_id, worker_type: 'builder' }));
    expect((await take('bld-a')).task?.ticket_id).toBe(t.ticket_id);
  });

  it('lets only the holder complete a held stage: an unregistered id or another worker is refused, an operator is not', async () => {
    await worker('imp-a', 'implementer');
    await worker('imp-b', 'implementer');
    const ticketId = await queued('holder/project', ['implementer', 'implementer']);
    await take('imp-a');
    const complete = (worker_id: string) => completeStage(ctx, S.CompleteStageInput.parse({ ticket_id: ticketId, worker_type: 'implementer', worker_id, content: 'mine' }));
    expect(await refusal(complete('intruder'))).toMatchObject({ code: ERROR_CODES.workerNotFound });
    expect(await refusal(complete('imp-b'))).toMatchObject({ code: ERROR_CODES.taskHeldByAnother, message: expect.stringContaining('held by worker imp-a') });
    expect((await complete('imp-a')).completed_stages).toBe(1);
    // The coordinator (update_ticket_stage) completes a stage whoever holds it.
    await queueTask(ctx, S.QueueTaskInput.parse({ ticket_id: ticketId, worker_type: 'implementer' }));
    await take('imp-b');
    expect((await updateStage(ctx, S.UpdateStageInput.parse({ ticket_id: ticketId, new_stage: 'implementer' }))).completed_stages).toBe(2);
  });
});

describe('resume_ticket_processing', () => {
  it('puts back a task whose holder stopped, queues a ticket with no task, and leaves a ticket at work alone', async () => {
    await worker('res-a', 'resumer');
    await worker('res-b', 'resumer');
    const t = await createTicket(ctx, S.CreateTicketInput.parse({ project_id: 'resume/project', title: 'T', description: 'D', execution_plan: ['resumer'] }));
    // Never queued: resuming queues it for its next stage.
    expect((await resumeTicket(ctx, S.ResumeTicketInput.parse({ ticket_id: t.ticket_id }), LEASE_MS)).queued_task).toMatchObject({ worker_type: 'resumer', taken_by: null });
    await take('res-a');
    expect(await refusal(resumeTicket(ctx, S.ResumeTicketInput.parse({ ticket_id: t.ticket_id }), LEASE_MS))).toMatchObject({ code: ERROR_CODES.taskInProgress });
    // Silent past its lease: resuming releases it.
    now += LEASE_MS + 1;
    expect((await resumeTicket(ctx, S.ResumeTicketInput.parse({ ticket_id: t.ticket_id, reason: 'res-a hung' }), LEASE_MS)).queued_task?.taken_by).toBeNull();
    expect(await releases(t.ticket_id)).toEqual([expect.objectContaining({ cause: 'resumed', reason: 'res-a hung' })]);
    expect((await take('res-b')).task?.ticket_id).toBe(t.ticket_id);
  });
});
