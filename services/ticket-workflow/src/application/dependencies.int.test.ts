/**
 * Ticket dependencies and stage views on the real event store: a ticket is blocked until
 * what it depends on is closed, queues hand out only ready work, cycles are refused even
 * when two additions race, and the graph around a ticket can be read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { ERROR_CODES } from '../domain/index';
import type { WorkflowContext } from './context';
import { addDependency, getDependencies, removeDependency } from './dependencies';
import { getQueueTasks, queueTask, takeNextTask } from './queues';
import * as S from './schemas';
import { closeTicket, completeStage } from './stages';
import { startTicketWorkflow, type RunningWorkflow } from './start';
import { createTicket, getTicket, getTicketsByStage, listTickets } from './tickets';
import { registerWorker } from './workers';

let db: TestDatabase;
let store: PostgresEventStore;
let workflow: RunningWorkflow;
let ctx: WorkflowContext;

beforeAll(async () => {
  db = await createTestDatabase('tw_dependencies');
  store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  workflow = await startTicketWorkflow({ store, pool: db.pool });
  ctx = workflow.ctx;
  await registerWorker(ctx, S.RegisterWorkerInput.parse({ worker_id: 'dev-1', worker_type: 'developer' }));
  await registerWorker(ctx, S.RegisterWorkerInput.parse({ worker_id: 'qa-1', worker_type: 'tester' }));
});
afterAll(async () => {
  await workflow?.stop();
  await store?.close();
  await db?.drop();
});

const newTicket = async (title: string, plan = ['developer']) =>
  (await createTicket(ctx, S.CreateTicketInput.parse({ project_id: 'graph/app', title, description: title, execution_plan: plan }))).ticket_id;
const depend = (ticket_id: string, depends_on: string) => addDependency(ctx, S.DependencyInput.parse({ ticket_id, depends_on }));
const refusal = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a refusal');
};

describe('dependencies', () => {
  it('block a ticket until what it depends on is closed: the queue hands out only ready work', async () => {
    const schema = await newTicket('schema');
    const api = await newTicket('api');
    await depend(api, schema);
    for (const t of [api, schema]) await queueTask(ctx, S.QueueTaskInput.parse({ ticket_id: t, worker_type: 'developer' }));
    expect(await getTicket(ctx, api)).toMatchObject({ dependency_status: 'blocked', blocked_by: [schema], depends_on: [{ ticket_id: schema, state: 'open' }] });
    // api was queued first, but it is blocked: the developer gets schema.
    const queue = await getQueueTasks(ctx, S.QueueTasksInput.parse({ worker_type: 'developer' }));
    expect(queue.map((t) => [t.ticket_id, t.blocked_by])).toEqual([
      [api, [schema]],
      [schema, []],
    ]);
    expect((await takeNextTask(ctx, S.TakeNextTaskInput.parse({ worker_id: 'dev-1' }))).task?.ticket_id).toBe(schema);
    expect((await takeNextTask(ctx, S.TakeNextTaskInput.parse({ worker_id: 'dev-1' }))).task).toBeNull();
    await completeStage(ctx, S.CompleteStageInput.parse({ ticket_id: schema, worker_type: 'developer', worker_id: 'dev-1', content: 'schema done' }));
    await closeTicket(ctx, S.CloseTicketInput.parse({ ticket_id: schema, status: 'Completed' }));
    expect((await getTicket(ctx, api)).dependency_status).toBe('ready');
    expect((await listTickets(ctx, S.ListTicketsInput.parse({ project_id: 'graph/app' }))).find((t) => t.ticket_id === api)?.dependency_status).toBe('ready');
    expect((await takeNextTask(ctx, S.TakeNextTaskInput.parse({ worker_id: 'dev-1' }))).task?.ticket_id).toBe(api);
  });

  it('refuse a cycle with its path, a self-dependency and unknown tickets, storing nothing', async () => {
    const [a, b, c] = [await newTicket('a'), await newTicket('b'), await newTicket('c')];
    await depend(a, b);
    await depend(b, c);
    const before = (await store.readStream('ticketgraph-all')).length;
    expect(await refusal(depend(c, a))).toMatchObject({ code: ERROR_CODES.dependencyCycle, message: `${c} → ${a} would close a cycle: ${c} → ${a} → ${b} → ${c}` });
    expect(await refusal(depend(a, a))).toMatchObject({ code: ERROR_CODES.dependencyCycle });
    expect(await refusal(depend(a, 'GHOST-001'))).toMatchObject({ code: ERROR_CODES.ticketNotFound, message: 'ticket GHOST-001 does not exist' });
    expect((await store.readStream('ticketgraph-all')).length).toBe(before);
    // Removing an edge lifts the block and frees the way back.
    await removeDependency(ctx, S.DependencyInput.parse({ ticket_id: b, depends_on: c }));
    expect((await getTicket(ctx, b)).dependency_status).toBe('ready');
    expect((await depend(c, a)).depends_on.map((d) => d.ticket_id)).toEqual([a]);
    expect(await refusal(removeDependency(ctx, S.DependencyInput.parse({ ticket_id: b, depends_on: c })))).toMatchObject({ code: ERROR_CODES.dependencyNotFound });
  });

  it('never store both halves of a cycle added at the same time', async () => {
    for (let round = 0; round < 5; round++) {
      const [x, y] = [await newTicket(`x${round}`), await newTicket(`y${round}`)];
      const outcomes = await Promise.allSettled([depend(x, y), depend(y, x)]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toMatchObject({ code: ERROR_CODES.dependencyCycle });
    }
  });

  it('show the graph around a ticket: what it waits for, what waits for it, upstream and downstream', async () => {
    const [design, build, test, ship] = [await newTicket('design'), await newTicket('build'), await newTicket('test'), await newTicket('ship')];
    await depend(build, design);
    await depend(test, build);
    await depend(ship, test);
    await closeTicket(ctx, S.CloseTicketInput.parse({ ticket_id: design, status: 'Completed' }));
    const graph = await getDependencies(ctx, { ticket_id: test });
    expect(graph).toMatchObject({ ticket_id: test, status: 'blocked', depends_on: [{ ticket_id: build, state: 'open' }], dependents: [{ ticket_id: ship, state: 'open' }] });
    expect(graph.graph.nodes.map((n) => `${n.ticket_id}:${n.state}`).sort()).toEqual([`${build}:open`, `${design}:closed`, `${ship}:open`, `${test}:open`].sort());
    expect(graph.graph.edges).toEqual(
      expect.arrayContaining([
        { ticket_id: build, depends_on: design },
        { ticket_id: test, depends_on: build },
        { ticket_id: ship, depends_on: test },
      ]),
    );
    expect(graph.graph.edges).toHaveLength(3);
  });
});

describe('get_tickets_by_stage', () => {
  it('lists open tickets by their next stage, not-started ones as Planned, closed ones by how they closed', async () => {
    const t = (await createTicket(ctx, S.CreateTicketInput.parse({ project_id: 'stages/app', title: 'S', description: 'S', execution_plan: ['developer', 'tester'] }))).ticket_id;
    const stage = async (name: string) => (await getTicketsByStage(ctx, S.TicketsByStageInput.parse({ stage: name, project_id: 'stages/app' }))).map((x) => x.ticket_id);
    expect(await stage('developer')).toEqual([t]);
    expect(await stage('Planned')).toEqual([t]);
    await completeStage(ctx, S.CompleteStageInput.parse({ ticket_id: t, worker_type: 'developer', worker_id: 'dev-1', content: 'built' }));
    expect([await stage('developer'), await stage('tester'), await stage('Planned')]).toEqual([[], [t], []]);
    await closeTicket(ctx, S.CloseTicketInput.parse({ ticket_id: t, status: 'Stopped' }));
    expect([await stage('tester'), await stage('Stopped'), await stage('Completed')]).toEqual([[], [t], []]);
  });
});
