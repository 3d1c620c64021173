import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, type Role } from '@fairlead/platform';
import { createTestDatabase, startServiceProcess, type ServiceProcess, type TestDatabase } from '@fairlead/testing';

// The service runs as its own process; agents talk to it with the official MCP client over HTTP
// (with the MCP_TOKEN the process was given), operators over REST with JWTs it verifies.
const JWT = { JWT_SECRET: randomBytes(32).toString('hex'), JWT_ISSUER: 'fairlead-test', JWT_AUDIENCE: 'fairlead-tw-e2e' };
const MCP_TOKEN = randomBytes(24).toString('base64url');
let db: TestDatabase;
let service: ServiceProcess;
let base: string;
const clients: Client[] = [];

beforeAll(async () => {
  db = await createTestDatabase('tw_mcp_e2e');
  base = await mkdtemp(join(tmpdir(), 'tw-mcp-'));
  service = await startServiceProcess({ service: 'ticket-workflow', env: { DATABASE_URL: db.url, ...JWT, MCP_TOKEN, TEMPLATES_ROOT: base, PROJECTS_ROOT: base } });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await service?.stop();
  await db?.drop();
  if (base) await rm(base, { recursive: true, force: true });
});

/** An agent: its own MCP client connection. */
async function agent(name: string) {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${service.port}/mcp`), { requestInit: { headers: { authorization: `Bearer ${MCP_TOKEN}` } } }));
  clients.push(client);
  const call = async (tool: string, args: Record<string, unknown>) => {
    const result = await client.callTool({ name: tool, arguments: args });
    return result as { isError?: boolean; structuredContent?: Record<string, unknown>; content: Array<{ type: string; text?: string }> };
  };
  return {
    client,
    call,
    /** A call that must succeed; returns its structured result. */
    ok: async <T = Record<string, unknown>>(tool: string, args: Record<string, unknown>): Promise<T> => {
      const result = await call(tool, args);
      if (result.isError) throw new Error(`${tool} failed: ${result.content[0]?.text}`);
      return result.structuredContent as T;
    },
  };
}

interface Ticket {
  ticket_id: string;
  state: string;
  last_completed_stage: string;
  next_stage: string | null;
  comments?: Array<{ worker_type: string; worker_id: string; stage_number: number; content: string }>;
}
interface CoordinatorEvent {
  event_id: number;
  event_type: string;
  ticket_id: string;
  stage: string;
  worker_id: string;
}

describe('ticket workflow over MCP (official client, Streamable HTTP, separate process)', () => {
  it('lists every tool of the workflow (the OPERATIONS catalogue)', async () => {
    const coordinator = await agent('coordinator');
    const { tools } = await coordinator.client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of [
      'create_ticket',
      'get_ticket',
      'list_tickets',
      'add_ticket_comment',
      'complete_ticket_stage',
      'update_ticket_stage',
      'close_ticket',
      'queue_task',
      'get_queue_tasks',
      'take_next_task',
      'get_events',
      'mark_events_processed',
      'register_worker',
      'list_workers',
      'update_worker_status',
      'distribute_template',
      'rollback_distribution',
    ]) {
      expect(names).toContain(name);
    }
    const create = tools.find((t) => t.name === 'create_ticket');
    expect(create?.inputSchema.required).toEqual(expect.arrayContaining(['project_id', 'title', 'description', 'execution_plan']));
  });

  it('runs the complete workflow: architect, developer, tester, then the coordinator closes the ticket', async () => {
    const coordinator = await agent('coordinator');
    const plan = ['architect', 'developer', 'tester'];
    const workers = Object.fromEntries(await Promise.all(plan.map(async (type) => [type, await agent(`${type}-1`)] as const)));
    for (const type of plan) await workers[type]!.ok('register_worker', { worker_id: `${type}-1`, worker_type: type });

    const ticket = await coordinator.ok<Ticket>('create_ticket', {
      project_id: 'test/project',
      title: 'Implement user authentication',
      description: 'Create secure user authentication system',
      execution_plan: plan,
    });
    expect(ticket).toMatchObject({ ticket_id: 'PROJECT-001', last_completed_stage: 'Planned', next_stage: 'architect', state: 'open' });
    await coordinator.ok('queue_task', { ticket_id: ticket.ticket_id, worker_type: 'architect' });

    for (const [index, type] of plan.entries()) {
      const worker = workers[type]!;
      const taken = await worker.ok<{ task: { ticket_id: string } | null; ticket: Ticket }>('take_next_task', { worker_id: `${type}-1` });
      expect(taken.task?.ticket_id).toBe(ticket.ticket_id);
      expect(taken.ticket.next_stage).toBe(type);
      await worker.ok('add_ticket_comment', { ticket_id: ticket.ticket_id, worker_type: type, worker_id: `${type}-1`, stage_number: index + 1, content: `${type} started` });
      await worker.ok('complete_ticket_stage', { ticket_id: ticket.ticket_id, worker_type: type, worker_id: `${type}-1`, content: `${type} report` });
      // Nothing left for this worker.
      expect((await worker.ok<{ task: unknown }>('take_next_task', { worker_id: `${type}-1` })).task).toBeNull();

      // The coordinator reads the event, marks it processed, and queues the next stage.
      const events = (await coordinator.ok<{ items: CoordinatorEvent[] }>('get_events', { processed: false })).items;
      expect(events.map((e) => [e.event_type, e.ticket_id, e.stage, e.worker_id])).toEqual([['ticket_stage_completed', ticket.ticket_id, type, `${type}-1`]]);
      await coordinator.ok('mark_events_processed', { event_ids: events.map((e) => e.event_id) });
      expect((await coordinator.ok<{ items: CoordinatorEvent[] }>('get_events', {})).items).toEqual([]);
      const next = plan[index + 1];
      if (next) await coordinator.ok('queue_task', { ticket_id: ticket.ticket_id, worker_type: next });
    }

    const closed = await coordinator.ok<Ticket>('close_ticket', { ticket_id: ticket.ticket_id, status: 'Completed' });
    expect(closed).toMatchObject({ state: 'closed', last_completed_stage: 'Completed', next_stage: null });
    const full = await coordinator.ok<Ticket>('get_ticket', { ticket_id: ticket.ticket_id });
    expect(full.comments?.map((c) => `${c.stage_number} ${c.worker_id}: ${c.content}`)).toEqual([
      '0 coordinator: Create secure user authentication system',
      '1 architect-1: architect started',
      '1 architect-1: architect report',
      '2 developer-1: developer started',
      '2 developer-1: developer report',
      '3 tester-1: tester started',
      '3 tester-1: tester report',
      '999 coordinator: Ticket completed successfully by coordinator.',
    ]);
    const closedList = (await coordinator.ok<{ items: Ticket[] }>('list_tickets', { project_id: 'test/project', status: 'closed' })).items;
    expect(closedList.map((t) => t.ticket_id)).toEqual([ticket.ticket_id]);
    // A closed ticket takes no more stage changes.
    const refused = await coordinator.call('update_ticket_stage', { ticket_id: ticket.ticket_id, new_stage: 'tester' });
    expect(refused.isError).toBe(true);
    expect(refused.content[0]?.text).toMatch(/^TICKET_CLOSED: /);
  });

  it('answers bad calls with a tool error and the reason, and keeps serving', async () => {
    const coordinator = await agent('careless');
    const missing = await coordinator.call('create_ticket', { project_id: 'test/project', title: 'no plan' });
    expect(missing.isError).toBe(true);
    expect(missing.content[0]?.text).toMatch(/description|execution_plan/);

    const ticket = await coordinator.ok<Ticket>('create_ticket', { project_id: 'test/project', title: 'T', description: 'D', execution_plan: ['architect', 'developer'] });
    const outOfOrder = await coordinator.call('complete_ticket_stage', { ticket_id: ticket.ticket_id, worker_type: 'developer', worker_id: 'developer-1', content: 'skipped ahead' });
    expect(outOfOrder).toMatchObject({ isError: true, structuredContent: { error: { code: 'STAGE_OUT_OF_ORDER' } } });
    expect(outOfOrder.content[0]?.text).toContain("the next is 'architect'");

    const noWorker = await coordinator.call('queue_task', { ticket_id: ticket.ticket_id, worker_type: 'designer' });
    expect(noWorker.content[0]?.text).toBe("NO_ACTIVE_WORKER: no active or idle worker of type 'designer'; register one with register_worker first");
    expect((await coordinator.call('get_ticket', { ticket_id: 'nope' })).isError).toBe(true);
    expect((await coordinator.call('no_such_tool', {})).isError).toBe(true);
    // Still serving.
    expect((await coordinator.ok<Ticket>('get_ticket', { ticket_id: ticket.ticket_id })).ticket_id).toBe(ticket.ticket_id);
  });

  it('tells the coordinator when a worker stops', async () => {
    const coordinator = await agent('coordinator-2');
    await coordinator.ok('register_worker', { worker_id: 'flaky-1', worker_type: 'flaky' });
    await coordinator.ok('update_worker_status', { worker_id: 'flaky-1', status: 'failed', reason: 'out of memory' });
    const events = (await coordinator.ok<{ items: Array<CoordinatorEvent & { reason: string }> }>('get_events', {})).items;
    expect(events.filter((e) => e.event_type === 'worker_stopped').map((e) => [e.worker_id, e.reason])).toEqual([['flaky-1', 'out of memory']]);
    const workers = (await coordinator.ok<{ items: Array<{ worker_id: string; status: string }> }>('list_workers', { worker_type: 'flaky' })).items;
    expect(workers).toMatchObject([{ worker_id: 'flaky-1', status: 'failed' }]);
  });

  it('distributes a template to project folders and rolls it back', async () => {
    const coordinator = await agent('distributor');
    for (const name of ['alpha', 'beta']) {
      await mkdir(join(base, name, 'issues', 'phase-1'), { recursive: true });
      await writeFile(join(base, name, 'README.md'), name);
    }
    await writeFile(join(base, 'alpha', 'issues', 'phase-1', '003-old.md'), 'old');
    const args = { template_name: 'security-audit', template: '# Audit of {{project_name}} ({{ticket_id}})\n', discover_under: base };
    const preview = await coordinator.ok<{ results: Array<{ status: string; file: string }> }>('distribute_template', { ...args, dry_run: true });
    expect(preview.results.map((r) => [r.status, r.file])).toEqual([
      ['would_write', 'issues/phase-1/004-security-audit.md'],
      ['would_write', 'issues/phase-1/001-security-audit.md'],
    ]);
    const report = await coordinator.ok<{ distributionId: string; lines: string[]; results: Array<{ ticketId: string }> }>('distribute_template', args);
    expect(report.lines.filter((l) => l.startsWith('✓'))).toEqual([
      `✓ alpha: issues/phase-1/004-security-audit.md, ticket ${report.results[0]!.ticketId}`,
      `✓ beta: issues/phase-1/001-security-audit.md, ticket ${report.results[1]!.ticketId}`,
    ]);
    expect(await readdir(join(base, 'beta', 'issues', 'phase-1'))).toContain('001-security-audit.md');
    const rolled = await coordinator.ok<{ removed: unknown[]; ticketsWithdrawn: string[] }>('rollback_distribution', { distribution_id: report.distributionId });
    expect(rolled.removed).toHaveLength(2);
    expect(rolled.ticketsWithdrawn).toHaveLength(2);
    expect(await readdir(join(base, 'beta', 'issues', 'phase-1'))).not.toContain('001-security-audit.md');
    const again = await coordinator.call('rollback_distribution', { distribution_id: report.distributionId });
    expect(again.content[0]?.text).toMatch(/^DISTRIBUTION_ALREADY_ROLLED_BACK/);
  });

  it('refuses /mcp without its token, and REST without an operator token', async () => {
    const mcp = await fetch(`http://127.0.0.1:${service.port}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(mcp.status).toBe(401);
    expect(await mcp.json()).toMatchObject({ code: 'MCP_TOKEN_MISSING' });
    const rest = await fetch(`http://127.0.0.1:${service.port}/v1/tickets`);
    expect(rest.status).toBe(401);
    expect(await rest.json()).toMatchObject({ code: 'TOKEN_MISSING' });
  });

  it('serves the same operations over REST, for operators, with problem+json errors', async () => {
    const url = `http://127.0.0.1:${service.port}/v1`;
    const bearer = async (roles: Role[], mfa: boolean) =>
      `Bearer ${await mintToken({ secret: JWT.JWT_SECRET, issuer: JWT.JWT_ISSUER, audience: JWT.JWT_AUDIENCE, sub: 'olivia', roles, mfa, ttlSec: 600 })}`;
    const operator = { authorization: await bearer(['operator'], true), 'content-type': 'application/json' };
    const viewer = { authorization: await bearer(['viewer'], false) };
    const created = await fetch(`${url}/tickets`, {
      method: 'POST',
      headers: operator,
      body: JSON.stringify({ project_id: 'ops/project', title: 'From REST', description: 'd', execution_plan: ['developer'] }),
    });
    expect(created.status).toBe(201);
    const ticket = (await created.json()) as Ticket;
    const got = await fetch(`${url}/tickets/${ticket.ticket_id}`, { headers: viewer });
    expect(((await got.json()) as Ticket).comments?.[0]?.content).toBe('d');
    const notFound = await fetch(`${url}/tickets/OPS-999`, { headers: viewer });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('content-type')).toContain('application/problem+json');
    expect(await notFound.json()).toMatchObject({ code: 'TICKET_NOT_FOUND' });
    const worker = await fetch(`${url}/workers`, { method: 'POST', headers: operator, body: JSON.stringify({ worker_id: 't', worker_type: 'tester' }) });
    expect(worker.status).toBe(201);
    const stage = await fetch(`${url}/tickets/${ticket.ticket_id}/stages`, {
      method: 'POST',
      headers: operator,
      body: JSON.stringify({ worker_type: 'tester', worker_id: 't', content: 'x' }),
    });
    expect(stage.status).toBe(409);
    expect(await stage.json()).toMatchObject({ code: 'STAGE_OUT_OF_ORDER' });
    const invalid = await fetch(`${url}/tickets`, { method: 'POST', headers: operator, body: JSON.stringify({ title: '' }) });
    expect(invalid.status).toBe(400);
    // A viewer's token is refused before the body is even validated.
    const viewerWrites = await fetch(`${url}/tickets`, { method: 'POST', headers: { ...viewer, 'content-type': 'application/json' }, body: JSON.stringify({ title: '' }) });
    expect(viewerWrites.status).toBe(403);
    expect(await viewerWrites.json()).toMatchObject({ code: 'ROLE_INSUFFICIENT' });
    const list = await fetch(`${url}/tickets?project_id=ops/project&status=open&limit=5`, { headers: viewer });
    expect(((await list.json()) as Ticket[]).map((t) => t.ticket_id)).toEqual([ticket.ticket_id]);
  });
});
