import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { ERROR_CODES } from '../domain/index';
import type { WorkflowContext } from './context';
import { getEvents, markEventsProcessed } from './coordinator';
import * as S from './schemas';
import { startTicketWorkflow, type RunningWorkflow } from './start';
import { registerProject } from './projects';
import { addComment, closeTicket, completeStage, updateStage } from './stages';
import { createTicket, getTicket, listTickets } from './tickets';
import { getQueueTasks, queueTask, takeNextTask } from './queues';
import { listWorkers, registerWorker, updateWorkerStatus } from './workers';

let db: TestDatabase;
let store: PostgresEventStore;
let workflow: RunningWorkflow;
let ctx: WorkflowContext;

beforeAll(async () => {
  db = await createTestDatabase('tw_workflow');
  store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  workflow = await startTicketWorkflow({ store, pool: db.pool });
  ctx = workflow.ctx;
});
afterAll(async () => {
  await workflow?.stop();
  await store?.close();
  await db?.drop();
});

const newTicket = (project: string, plan = ['architect', 'developer', 'tester']) =>
  createTicket(ctx, S.CreateTicketInput.parse({ project_id: project, title: 'Implement user authentication', description: 'Create secure user authentication system', execution_plan: plan }));

const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  throw new Error('expected a refusal');
};

describe('tickets (event-sourced, real PostgreSQL)', () => {
  // Only registered workers complete stages.
  beforeAll(async () => {
    for (const [worker_id, worker_type] of [['arch-1', 'architect'], ['t-1', 'tester'], ['a', 'architect']] as const) {
      await registerWorker(ctx, S.RegisterWorkerInput.parse({ worker_id, worker_type }));
    }
  });

  it('gives tickets readable ids in their project sequence', async () => {
    await registerProject(ctx, S.RegisterProjectInput.parse({ project_id: 'acme/web', key: 'WEB' }));
    const first = await newTicket('acme/web');
    const second = await newTicket('acme/web');
    const other = await newTicket('test/project');
    expect([first.ticket_id, second.ticket_id, other.ticket_id]).toEqual(['WEB-001', 'WEB-002', 'PROJECT-001']);
    expect(first).toMatchObject({ last_completed_stage: 'Planned', next_stage: 'architect', state: 'open' });
    const listed = await listTickets(ctx, S.ListTicketsInput.parse({ project_id: 'acme/web', status: 'open' }));
    expect(listed.map((t) => t.ticket_id).sort()).toEqual(['WEB-001', 'WEB-002']);
  });

  it('stores a stage completion as one append: comment and stage change in one transaction', async () => {
    const ticket = await newTicket('acme/web');
    await completeStage(ctx, S.CompleteStageInput.parse({ ticket_id: ticket.ticket_id, worker_type: 'architect', worker_id: 'arch-1', content: 'Design: JWT + refresh tokens' }));
    const events = await store.readStream(`ticket-${ticket.ticket_id}`);
    const [comment, stage] = events.slice(-2);
    expect([comment?.type, stage?.type]).toEqual(['TicketCommentAdded', 'TicketStageCompleted']);
    expect(comment?.transactionId).toBe(stage?.transactionId);
    const view = await getTicket(ctx, ticket.ticket_id);
    expect(view.comments?.map((c) => [c.worker_type, c.stage_number, c.content])).toEqual([
      ['coordinator', 0, 'Create secure user authentication system'],
      ['architect', 1, 'Design: JWT + refresh tokens'],
    ]);
    expect(view).toMatchObject({ last_completed_stage: 'architect', next_stage: 'developer', completed_stages: 1 });
  });

  it('refuses a stage out of plan order with a clear error, and stores nothing', async () => {
    const ticket = await newTicket('acme/web');
    const before = await store.readStream(`ticket-${ticket.ticket_id}`);
    const refused = completeStage(ctx, S.CompleteStageInput.parse({ ticket_id: ticket.ticket_id, worker_type: 'tester', worker_id: 't-1', content: 'tests pass' }));
    await expect(refused).rejects.toMatchObject({ code: ERROR_CODES.stageOutOfOrder, message: expect.stringContaining("the next is 'architect'") });
    expect(await store.readStream(`ticket-${ticket.ticket_id}`)).toHaveLength(before.length);
    expect(await codeOf(updateStage(ctx, S.UpdateStageInput.parse({ ticket_id: ticket.ticket_id, new_stage: 'developer' })))).toBe(ERROR_CODES.stageOutOfOrder);
  });

  it('closes with a closing comment; a closed ticket takes no more stage changes', async () => {
    const ticket = await newTicket('acme/web');
    const closed = await closeTicket(ctx, S.CloseTicketInput.parse({ ticket_id: ticket.ticket_id, status: 'Stopped', reason: 'duplicate of WEB-001' }));
    expect(closed).toMatchObject({ state: 'closed', closed_as: 'Stopped', last_completed_stage: 'Stopped' });
    expect(closed.comments?.at(-1)?.content).toBe('Ticket stopped by coordinator due to issues or cancellation. Reason: duplicate of WEB-001');
    expect(await codeOf(completeStage(ctx, S.CompleteStageInput.parse({ ticket_id: ticket.ticket_id, worker_type: 'architect', worker_id: 'a', content: 'x' })))).toBe(
      ERROR_CODES.ticketClosed,
    );
    expect(await codeOf(getTicket(ctx, 'WEB-999'))).toBe(ERROR_CODES.ticketNotFound);
    const closedList = await listTickets(ctx, S.ListTicketsInput.parse({ project_id: 'acme/web', status: 'closed' }));
    expect(closedList.map((t) => t.ticket_id)).toContain(ticket.ticket_id);
  });

  it('adds comments with worker and stage', async () => {
    const ticket = await newTicket('acme/web');
    await addComment(ctx, S.AddCommentInput.parse({ ticket_id: ticket.ticket_id, worker_type: 'developer', worker_id: 'dev-9', stage_number: 2, content: 'question' }));
    expect((await getTicket(ctx, ticket.ticket_id)).comments?.at(-1)).toMatchObject({ worker_id: 'dev-9', stage_number: 2, content: 'question' });
  });
});

describe('queues, workers and coordinator events', () => {
  it('queues only for a type with an active or idle worker, and says so', async () => {
    const ticket = await newTicket('queue/none', ['reviewer']);
    await expect(queueTask(ctx, S.QueueTaskInput.parse({ ticket_id: ticket.ticket_id, worker_type: 'reviewer' }))).rejects.toMatchObject({
      code: ERROR_CODES.noActiveWorker,
      message: "no active or idle worker of type 'reviewer'; register one with register_worker first",
    });
    await registerWorker(ctx, S.RegisterWorkerInput.parse({ worker_id: 'rev-1', worker_type: 'reviewer', status: 'spawning' }));
    expect(await codeOf(queueTask(ctx, S.QueueTaskInput.parse({ ticket_id: ticket.ticket_id, worker_type: 'reviewer' })))).toBe(ERROR_CODES.noActiveWorker);
    await updateWorkerStatus(ctx, S.UpdateWorkerStatusInput.parse({ worker_id: 'rev-1', status: 'idle' }));
    const queued = await queueTask(ctx, S.QueueTaskInput.parse({ ticket_id: ticket.ticket_id, worker_type: 'reviewer' }));
    expect(queued).toMatchObject({ ticket_id: ticket.ticket_id, queue_name: 'queue:reviewer', available_workers: ['rev-1'] });
    expect(await codeOf(queueTask(ctx, S.QueueTaskInput.parse({ ticket_id: ticket.ticket_id, worker_type: 'reviewer' })))).toBe(ERROR_CODES.taskAlreadyQueued);
    expect((await getQueueTasks(ctx, S.QueueTasksInput.parse({ worker_type: 'reviewer' }))).map((t) => t.task_id)).toEqual([queued.task_id]);
  });

  it('never gives one task to two workers, with eight workers taking at once', async () => {
    const workers = Array.from({ length: 8 }, (_, i) => `loader-${i}`);
    for (const id of workers) await registerWorker(ctx, S.RegisterWorkerInput.parse({ worker_id: id, worker_type: 'loader' }));
    const tickets: string[] = [];
    for (let i = 0; i < 12; i++) {
      const t = await newTicket('race/project', ['loader']);
      await queueTask(ctx, S.QueueTaskInput.parse({ ticket_id: t.ticket_id, worker_type: 'loader' }));
      tickets.push(t.ticket_id);
    }
    // Every worker keeps taking until its queue is empty, all at the same time.
    const taken = await Promise.all(
      workers.map(async (worker_id) => {
        const mine: string[] = [];
        for (;;) {
          const next = await takeNextTask(ctx, S.TakeNextTaskInput.parse({ worker_id }));
          if (next.task === null) return mine;
          mine.push(next.task.ticket_id);
        }
      }),
    );
    const all = taken.flat();
    expect(all.sort()).toEqual([...tickets].sort());
    expect(new Set(all).size).toBe(12);
    // The ticket streams agree: exactly one TicketTaskTaken each.
    for (const id of tickets) {
      const takenEvents = (await store.readStream(`ticket-${id}`)).filter((e) => e.type === 'TicketTaskTaken');
      expect(takenEvents).toHaveLength(1);
    }
    expect(await getQueueTasks(ctx, S.QueueTasksInput.parse({ worker_type: 'loader' }))).toEqual([]);
  });

  it('reports stage completions and stopped workers to the coordinator in order, until marked processed', async () => {
    await registerWorker(ctx, S.RegisterWorkerInput.parse({ worker_id: 'doc-1', worker_type: 'documenter' }));
    const before = (await getEvents(ctx, S.GetEventsInput.parse({}))).map((e) => e.event_id);
    if (before.length) await markEventsProcessed(ctx, S.MarkEventsProcessedInput.parse({ event_ids: before }));
    const ticket = await newTicket('events/project', ['documenter', 'documenter']);
    await completeStage(ctx, S.CompleteStageInput.parse({ ticket_id: ticket.ticket_id, worker_type: 'documenter', worker_id: 'doc-1', content: 'part one' }));
    await updateWorkerStatus(ctx, S.UpdateWorkerStatusInput.parse({ worker_id: 'doc-1', status: 'failed', reason: 'crashed' }));
    await updateStage(ctx, S.UpdateStageInput.parse({ ticket_id: ticket.ticket_id, new_stage: 'documenter', stage_number: 2 }));

    const events = await getEvents(ctx, S.GetEventsInput.parse({}));
    expect(events.map((e) => [e.event_type, e.ticket_id, e.stage, e.stage_number, e.worker_id, e.reason])).toEqual([
      ['ticket_stage_completed', ticket.ticket_id, 'documenter', 1, 'doc-1', null],
      ['worker_stopped', null, null, null, 'doc-1', 'crashed'],
      ['ticket_stage_completed', ticket.ticket_id, 'documenter', 2, 'coordinator', null],
    ]);
    const result = await markEventsProcessed(ctx, S.MarkEventsProcessedInput.parse({ event_ids: events.slice(0, 2).map((e) => e.event_id) }));
    expect(result.marked).toEqual(events.slice(0, 2).map((e) => e.event_id));
    expect((await getEvents(ctx, S.GetEventsInput.parse({}))).map((e) => e.event_id)).toEqual([events[2]!.event_id]);
    expect((await markEventsProcessed(ctx, S.MarkEventsProcessedInput.parse({ event_ids: [events[0]!.event_id] }))).already_processed).toEqual([events[0]!.event_id]);
    expect(await codeOf(markEventsProcessed(ctx, S.MarkEventsProcessedInput.parse({ event_ids: [999_999_999] })))).toBe(ERROR_CODES.eventNotFound);
    // A stopped worker takes no tasks and cannot come back.
    expect(await codeOf(takeNextTask(ctx, S.TakeNextTaskInput.parse({ worker_id: 'doc-1' })))).toBe(ERROR_CODES.workerStopped);
    expect((await listWorkers(ctx, S.ListWorkersInput.parse({ worker_type: 'documenter' })))[0]?.status).toBe('failed');
  });
});
