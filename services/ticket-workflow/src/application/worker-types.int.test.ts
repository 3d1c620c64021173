/** Worker types as managed entities on the real event store: CRUD, instructions for workers, and the delete guard. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { ERROR_CODES } from '../domain/index';
import type { WorkflowContext } from './context';
import { updateWorkerStatusReleasing } from './leases';
import * as S from './schemas';
import { closeTicket } from './stages';
import { startTicketWorkflow, type RunningWorkflow } from './start';
import { createTicket } from './tickets';
import { createWorkerType, deleteWorkerType, getWorkerType, listWorkerTypes, updateWorkerType } from './worker-types';
import { registerWorker } from './workers';

let db: TestDatabase;
let store: PostgresEventStore;
let workflow: RunningWorkflow;
let ctx: WorkflowContext;

beforeAll(async () => {
  db = await createTestDatabase('tw_worker_types');
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

const refusal = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a refusal');
};

describe('worker types', () => {
  it('are created, listed, read and updated; a worker registering gets its type’s instructions', async () => {
    await createWorkerType(ctx, S.CreateWorkerTypeInput.parse({ worker_type: 'reviewer', description: 'Reviews pull requests', instructions: 'Check tests first.' }));
    expect(await refusal(createWorkerType(ctx, S.CreateWorkerTypeInput.parse({ worker_type: 'reviewer', description: 'again' })))).toMatchObject({ code: ERROR_CODES.workerTypeExists });
    expect(await getWorkerType(ctx, { worker_type: 'reviewer' })).toEqual({ worker_type: 'reviewer', description: 'Reviews pull requests', instructions: 'Check tests first.' });
    await updateWorkerType(ctx, S.UpdateWorkerTypeInput.parse({ worker_type: 'reviewer', instructions: 'Check tests first, then naming.' }));
    expect((await listWorkerTypes(ctx)).map((t) => [t.worker_type, t.instructions])).toEqual([['reviewer', 'Check tests first, then naming.']]);
    expect((await registerWorker(ctx, S.RegisterWorkerInput.parse({ worker_id: 'rev-1', worker_type: 'reviewer' }))).instructions).toBe('Check tests first, then naming.');
    // Types nobody created still work for workers; they just come without instructions.
    expect((await registerWorker(ctx, S.RegisterWorkerInput.parse({ worker_id: 'misc-1', worker_type: 'misc' }))).instructions).toBeNull();
    expect(await refusal(updateWorkerType(ctx, S.UpdateWorkerTypeInput.parse({ worker_type: 'ghost', description: 'x' })))).toMatchObject({ code: ERROR_CODES.workerTypeNotFound });
  });

  it('are deleted only when no worker of the type is at work and no open ticket still needs one', async () => {
    await createWorkerType(ctx, S.CreateWorkerTypeInput.parse({ worker_type: 'translator', description: 'Translates' }));
    await registerWorker(ctx, S.RegisterWorkerInput.parse({ worker_id: 'tr-1', worker_type: 'translator' }));
    const t = await createTicket(ctx, S.CreateTicketInput.parse({ project_id: 'i18n/app', title: 'T', description: 'D', execution_plan: ['translator'] }));
    const inUse = await refusal(deleteWorkerType(ctx, { worker_type: 'translator' }));
    expect(inUse).toMatchObject({ code: ERROR_CODES.workerTypeInUse, message: `worker type 'translator' is still needed by worker tr-1 (active), open ticket ${t.ticket_id}` });
    await updateWorkerStatusReleasing(ctx, S.UpdateWorkerStatusInput.parse({ worker_id: 'tr-1', status: 'finished' }));
    await closeTicket(ctx, S.CloseTicketInput.parse({ ticket_id: t.ticket_id, status: 'Completed' }));
    expect(await deleteWorkerType(ctx, { worker_type: 'translator' })).toEqual({ worker_type: 'translator', deleted: true });
    expect((await listWorkerTypes(ctx)).map((x) => x.worker_type)).not.toContain('translator');
    expect(await refusal(getWorkerType(ctx, { worker_type: 'translator' }))).toMatchObject({ code: ERROR_CODES.workerTypeNotFound });
    // Created again, it is back.
    await createWorkerType(ctx, S.CreateWorkerTypeInput.parse({ worker_type: 'translator', description: 'Translates again' }));
    expect((await listWorkerTypes(ctx)).find((x) => x.worker_type === 'translator')?.description).toBe('Translates again');
  });
});
