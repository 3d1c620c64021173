import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, runMigrations, START, type PostgresEventStore, type StoredEvent } from '@fairlead/event-store';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import * as S from '../application/schemas';
import { startTicketWorkflow, type RunningWorkflow } from '../application/start';
import { closeTicket, completeStage } from '../application/stages';
import { createTicket, getTicket } from '../application/tickets';
import { queueTask, takeNextTask } from '../application/queues';
import { registerWorker, updateWorkerStatus } from '../application/workers';
import { addDependency, removeDependency } from '../application/dependencies';
import { distribute, rollback } from '../application/distribution';
import { renewTaskLease, updateWorkerStatusReleasing } from '../application/leases';
import { deleteProject, registerProject, updateProject } from '../application/projects';
import { createWorkerType, deleteWorkerType, updateWorkerType } from '../application/worker-types';
import { readModelMigrations, workflowProjection, WORKFLOW_CATEGORIES } from './index';

let db: TestDatabase;
let store: PostgresEventStore;
let workflow: RunningWorkflow;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase('tw_read_models');
  store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  base = await mkdtemp(join(tmpdir(), 'tw-read-models-'));
  workflow = await startTicketWorkflow({ store, pool: db.pool, files: { templatesRoot: base, projectsRoot: base } });
  await activity();
});
afterAll(async () => {
  await workflow?.stop();
  await store?.close();
  await db?.drop();
  if (base) await rm(base, { recursive: true, force: true });
});

/** A bit of everything: tickets through stages, queues, a stopped worker, a distribution and its rollback. */
async function activity() {
  const ctx = workflow.ctx;
  await registerWorker(ctx, S.RegisterWorkerInput.parse({ worker_id: 'arch-1', worker_type: 'architect' }));
  const t = await createTicket(ctx, S.CreateTicketInput.parse({ project_id: 'acme/web', title: 'A', description: 'd', execution_plan: ['architect', 'developer'] }));
  await queueTask(ctx, S.QueueTaskInput.parse({ ticket_id: t.ticket_id, worker_type: 'architect' }));
  await takeNextTask(ctx, S.TakeNextTaskInput.parse({ worker_id: 'arch-1' }));
  await completeStage(ctx, S.CompleteStageInput.parse({ ticket_id: t.ticket_id, worker_type: 'architect', worker_id: 'arch-1', content: 'designed' }));
  await closeTicket(ctx, S.CloseTicketInput.parse({ ticket_id: t.ticket_id, status: 'Completed' }));
  await updateWorkerStatus(ctx, S.UpdateWorkerStatusInput.parse({ worker_id: 'arch-1', status: 'finished' }));
  for (const name of ['web', 'api']) {
    await mkdir(join(base, name));
    await writeFile(join(base, name, 'README.md'), name);
  }
  const report = await distribute(ctx, S.DistributeTemplateInput.parse({ template_name: 'audit', template: '# Audit {{project_name}}', discover_under: base }));
  await rollback(ctx, report.distributionId);
  // Dependencies, a released task, a renewed lease, worker types, project changes.
  for (const id of ['dev-1', 'dev-2']) await registerWorker(ctx, S.RegisterWorkerInput.parse({ worker_id: id, worker_type: 'developer' }));
  const u = await createTicket(ctx, S.CreateTicketInput.parse({ project_id: 'acme/web', title: 'U', description: 'd', execution_plan: ['developer'] }));
  const v = await createTicket(ctx, S.CreateTicketInput.parse({ project_id: 'acme/web', title: 'V', description: 'd', execution_plan: ['developer'] }));
  await addDependency(ctx, S.DependencyInput.parse({ ticket_id: u.ticket_id, depends_on: v.ticket_id }));
  await addDependency(ctx, S.DependencyInput.parse({ ticket_id: u.ticket_id, depends_on: t.ticket_id }));
  await removeDependency(ctx, S.DependencyInput.parse({ ticket_id: u.ticket_id, depends_on: t.ticket_id }));
  await queueTask(ctx, S.QueueTaskInput.parse({ ticket_id: v.ticket_id, worker_type: 'developer' }));
  await takeNextTask(ctx, S.TakeNextTaskInput.parse({ worker_id: 'dev-1' }));
  await renewTaskLease(ctx, S.RenewTaskLeaseInput.parse({ ticket_id: v.ticket_id, worker_id: 'dev-1' }));
  await updateWorkerStatusReleasing(ctx, S.UpdateWorkerStatusInput.parse({ worker_id: 'dev-1', status: 'failed', reason: 'crashed' }));
  await createWorkerType(ctx, S.CreateWorkerTypeInput.parse({ worker_type: 'reviewer', description: 'Reviews' }));
  await updateWorkerType(ctx, S.UpdateWorkerTypeInput.parse({ worker_type: 'reviewer', instructions: 'Be kind' }));
  await deleteWorkerType(ctx, { worker_type: 'reviewer' });
  await createWorkerType(ctx, S.CreateWorkerTypeInput.parse({ worker_type: 'reviewer', description: 'Reviews again' }));
  await updateProject(ctx, S.UpdateProjectInput.parse({ project_id: 'acme/web', key: 'WEBSITE', name: 'Website' }));
  await registerProject(ctx, S.RegisterProjectInput.parse({ project_id: 'temp/x' }));
  await deleteProject(ctx, { project_id: 'temp/x' });
}

const TABLES = ['projects', 'tickets', 'tasks', 'coordinator_events', 'workers', 'distributions', 'distribution_projects', 'ticket_dependencies', 'worker_types'];

async function snapshot(schema: string): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of TABLES) {
    // Table names come from the constant list above; the schema from the test.
    out[table] = (await db.pool.query(`select * from ${schema}.${table} order by 1, 2`)).rows;
  }
  return out;
}

async function allEvents(): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let from = START;
  for (;;) {
    const batch = await store.readAll(from, 1000);
    events.push(...batch.events.filter((e) => (WORKFLOW_CATEGORIES as readonly string[]).includes(e.stream.split('-')[0]!)));
    if (batch.events.length === 0) return events;
    from = batch.checkpoint;
  }
}

async function applyAll(schema: string, events: readonly StoredEvent[]) {
  const projection = workflowProjection(schema);
  const client = await db.pool.connect();
  try {
    await client.query('begin');
    for (const event of events) await projection.apply(event, client);
    await client.query('commit');
  } finally {
    client.release();
  }
}

describe('read models', () => {
  it('hold what happened', async () => {
    const live = await snapshot('ticket_workflow');
    expect(live.tickets).toHaveLength(5);
    const tasks = live.tasks as Array<{ status: string; worker_id: string | null }>;
    expect(tasks.map((t) => `${t.status}:${t.worker_id}`).sort()).toEqual(['done:arch-1', 'queued:null']);
    expect((live.coordinator_events as Array<{ event_type: string }>).map((e) => e.event_type).sort()).toEqual(['ticket_stage_completed', 'worker_stopped', 'worker_stopped']);
    expect((live.ticket_dependencies as Array<{ active: boolean }>).map((d) => d.active).sort()).toEqual([false, true]);
    expect(live.worker_types).toMatchObject([{ name: 'reviewer', description: 'Reviews again', instructions: null, deleted: false }]);
    const projects = live.projects as Array<{ project_id: string; key: string; previous_keys: string[]; deleted_at: Date | null }>;
    expect(projects.find((p) => p.project_id === 'acme/web')).toMatchObject({ key: 'WEBSITE', previous_keys: ['WEB'] });
    expect(projects.find((p) => p.project_id === 'temp/x')?.deleted_at).not.toBeNull();
    expect(live.distributions).toMatchObject([{ status: 'rolled_back', succeeded: 2, template_name: 'audit' }]);
    const withdrawn = (live.tickets as Array<{ source_distribution_id: string | null; closed_as: string | null }>).filter((t) => t.source_distribution_id);
    expect(withdrawn.map((t) => t.closed_as)).toEqual(['Stopped', 'Stopped']);
    const distributedTicket = (live.distribution_projects as Array<{ ticket_id: string }>)[0]!.ticket_id;
    expect((await getTicket(workflow.ctx, distributedTicket)).comments?.at(-1)?.content).toContain('withdrawn by rollback of distribution');
  });

  it('are idempotent: applying every event again changes nothing', async () => {
    await workflow.projector.waitUntilCaughtUp();
    const before = await snapshot('ticket_workflow');
    await applyAll('ticket_workflow', await allEvents());
    expect(await snapshot('ticket_workflow')).toEqual(before);
  });

  it('rebuild from the event log into a fresh schema to the same rows', async () => {
    await runMigrations(db.pool, { table: 'migrations', schema: 'rebuilt', migrations: readModelMigrations('rebuilt') });
    await applyAll('rebuilt', await allEvents());
    expect(await snapshot('rebuilt')).toEqual(await snapshot('ticket_workflow'));
  });
});
