/**
 * Projects and their keys on the real event store: a key is never shared (explicit or
 * derived, however registrations race), an operator can change a project's key, a project
 * is deleted only without open tickets, and a caller's ticket_id is honoured or refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { ERROR_CODES } from '../domain/index';
import type { WorkflowContext } from './context';
import { deleteProject, getProject, listProjects, registerProject, updateProject } from './projects';
import * as S from './schemas';
import { addComment, closeTicket } from './stages';
import { startTicketWorkflow, type RunningWorkflow } from './start';
import { createTicket, getTicket } from './tickets';

let db: TestDatabase;
let store: PostgresEventStore;
let workflow: RunningWorkflow;
let ctx: WorkflowContext;

beforeAll(async () => {
  db = await createTestDatabase('tw_projects');
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

const ticket = (project_id: string, extra: Record<string, unknown> = {}) =>
  createTicket(ctx, S.CreateTicketInput.parse({ project_id, title: 'T', description: 'D', execution_plan: ['developer'], ...extra }));
const refusal = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a refusal');
};

describe('project keys', () => {
  it('refuses an explicit key another project holds, saying which', async () => {
    await registerProject(ctx, S.RegisterProjectInput.parse({ project_id: 'shop/web', key: 'DUP' }));
    const error = await refusal(registerProject(ctx, S.RegisterProjectInput.parse({ project_id: 'blog/web', key: 'DUP' })));
    expect(error).toMatchObject({ code: ERROR_CODES.projectKeyTaken, message: expect.stringContaining('DUP is already used by project shop/web') });
    // Nothing was stored for the refused project: it can register with another key.
    expect((await registerProject(ctx, S.RegisterProjectInput.parse({ project_id: 'blog/web', key: 'BLOG' }))).key).toBe('BLOG');
  });

  it('gives racing new projects whose names derive one key different keys, and each its own tickets', async () => {
    const projects = ['north/portal', 'south/portal', 'east/portal', 'west/portal'];
    // All at once, through both doors: registration and first ticket.
    const created = await Promise.all(projects.map((p, i) => (i % 2 === 0 ? ticket(p) : registerProject(ctx, S.RegisterProjectInput.parse({ project_id: p })).then(() => ticket(p)))));
    const keys = await Promise.all(projects.map(async (p) => (await getProject(ctx, { project_id: p })).key));
    expect(new Set(keys).size).toBe(projects.length);
    expect(keys.every((k) => /^PORTAL\d*$/.test(k))).toBe(true);
    expect(created.map((t) => t.ticket_id).sort()).toEqual(keys.map((k) => `${k}-001`).sort());
    // Every project goes on numbering its own tickets.
    for (const p of projects) expect((await ticket(p)).ticket_id).toMatch(/-002$/);
  });

  it('lets an operator change a key: new tickets take it, old ids stay, and the old key stays reserved', async () => {
    const first = await ticket('acme/api');
    expect(first.ticket_id).toBe('API-001');
    const changed = await updateProject(ctx, S.UpdateProjectInput.parse({ project_id: 'acme/api', key: 'GATEWAY', name: 'Gateway' }));
    expect(changed).toMatchObject({ key: 'GATEWAY', previous_keys: ['API'], name: 'Gateway' });
    expect((await ticket('acme/api')).ticket_id).toBe('GATEWAY-002');
    expect((await getTicket(ctx, 'API-001')).project_id).toBe('acme/api');
    expect(await refusal(registerProject(ctx, S.RegisterProjectInput.parse({ project_id: 'other/api', key: 'API' })))).toMatchObject({ code: ERROR_CODES.projectKeyTaken });
    expect(await refusal(updateProject(ctx, S.UpdateProjectInput.parse({ project_id: 'acme/api', key: 'DUP' })))).toMatchObject({ code: ERROR_CODES.projectKeyTaken });
    // A derived key skips keys held as previous keys too.
    expect((await registerProject(ctx, S.RegisterProjectInput.parse({ project_id: 'third/api' }))).key).toBe('API2');
  });
});

describe('a caller’s ticket_id', () => {
  it('is honoured: the ticket gets that id, and the sequence continues after it', async () => {
    await registerProject(ctx, S.RegisterProjectInput.parse({ project_id: 'legacy/crm', key: 'CRM' }));
    const chosen = await ticket('legacy/crm', { ticket_id: 'CRM-042' });
    expect(chosen.ticket_id).toBe('CRM-042');
    expect((await getTicket(ctx, 'CRM-042')).title).toBe('T');
    expect((await ticket('legacy/crm')).ticket_id).toBe('CRM-043');
    // A free number below the highest is fine; a taken one is refused and uses nothing up.
    expect((await ticket('legacy/crm', { ticket_id: 'CRM-007' })).ticket_id).toBe('CRM-007');
    expect(await refusal(ticket('legacy/crm', { ticket_id: 'CRM-042' }))).toMatchObject({ code: ERROR_CODES.ticketAlreadyExists, message: 'ticket CRM-042 already exists' });
    expect((await ticket('legacy/crm')).ticket_id).toBe('CRM-044');
  });

  it('names a new project’s key; a prefix that is not the project’s key, or an id not in canonical form, is refused clearly', async () => {
    expect((await ticket('fresh/billing', { ticket_id: 'BILL-005' })).ticket_id).toBe('BILL-005');
    expect((await getProject(ctx, { project_id: 'fresh/billing' })).key).toBe('BILL');
    expect(await refusal(ticket('legacy/crm', { ticket_id: 'BILL-006' }))).toMatchObject({
      code: ERROR_CODES.ticketIdMismatch,
      message: 'ticket_id BILL-006 does not match project legacy/crm, whose ticket ids start with CRM-',
    });
    expect(await refusal(ticket('legacy/crm', { ticket_id: 'CRM-0045' }))).toMatchObject({ code: ERROR_CODES.validation, message: expect.stringContaining('CRM-045') });
    expect(S.CreateTicketInput.safeParse({ project_id: 'p', title: 't', description: 'd', execution_plan: ['developer'], ticket_id: 'auth-ticket' }).success).toBe(false);
    // A new project whose id's key another project holds is refused whole: not registered.
    expect(await refusal(ticket('other/crm', { ticket_id: 'CRM-001' }))).toMatchObject({ code: ERROR_CODES.projectKeyTaken });
    expect(await refusal(getProject(ctx, { project_id: 'other/crm' }))).toMatchObject({ code: ERROR_CODES.projectNotFound });
  });
});

describe('TICKET_NOT_FOUND', () => {
  it('names the ticket it did not find, whatever the command', async () => {
    const error = await refusal(addComment(ctx, S.AddCommentInput.parse({ ticket_id: 'NOPE-999', worker_type: 'developer', worker_id: 'd', stage_number: 1, content: 'x' })));
    expect(error).toMatchObject({ code: ERROR_CODES.ticketNotFound, message: 'ticket NOPE-999 does not exist' });
    expect(await refusal(closeTicket(ctx, S.CloseTicketInput.parse({ ticket_id: 'NOPE-998', status: 'Completed' })))).toMatchObject({ message: 'ticket NOPE-998 does not exist' });
  });
});

describe('deleting a project', () => {
  it('is refused while it has open tickets, and done once they are closed; its numbers are never reused', async () => {
    const open = await ticket('old/site');
    expect(await refusal(deleteProject(ctx, { project_id: 'old/site' }))).toMatchObject({ code: ERROR_CODES.projectHasOpenTickets, message: expect.stringContaining(open.ticket_id) });
    await closeTicket(ctx, S.CloseTicketInput.parse({ ticket_id: open.ticket_id, status: 'Stopped' }));
    expect(await deleteProject(ctx, { project_id: 'old/site' })).toMatchObject({ deleted: true });
    expect((await listProjects(ctx, {})).map((p) => p.project_id)).not.toContain('old/site');
    expect((await listProjects(ctx, { include_deleted: true })).find((p) => p.project_id === 'old/site')?.deleted_at).not.toBeNull();
    expect(await refusal(ticket('old/site'))).toMatchObject({ code: ERROR_CODES.projectDeleted });
    // Registered again, it continues its sequence (and keeps its key).
    await registerProject(ctx, S.RegisterProjectInput.parse({ project_id: 'old/site' }));
    expect((await ticket('old/site')).ticket_id).toBe('SITE-002');
  });

  it('gives the keys of a project that never had a ticket back', async () => {
    await registerProject(ctx, S.RegisterProjectInput.parse({ project_id: 'typo/proj', key: 'TYPO' }));
    await deleteProject(ctx, { project_id: 'typo/proj' });
    expect((await registerProject(ctx, S.RegisterProjectInput.parse({ project_id: 'right/proj', key: 'TYPO' }))).key).toBe('TYPO');
  });
});
