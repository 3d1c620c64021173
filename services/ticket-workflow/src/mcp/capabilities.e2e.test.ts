/**
 * The capabilities a coordinator uses beyond the basic workflow, driven as users drive
 * them: the service runs as its own process; agents use the official MCP client over
 * Streamable HTTP (a session, with its GET event stream for notifications); a dashboard
 * reads the REST server-sent-events endpoint with a viewer token. Dependencies, worker
 * types, project changes, a released task and live updates, end to end.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '@fairlead/platform';
import { createTestDatabase, startServiceProcess, waitFor, type ServiceProcess, type TestDatabase } from '@fairlead/testing';

const JWT = { JWT_SECRET: randomBytes(32).toString('hex'), JWT_ISSUER: 'fairlead-test', JWT_AUDIENCE: 'fairlead-tw-capabilities' };
const MCP_TOKEN = randomBytes(24).toString('base64url');
let db: TestDatabase;
let service: ServiceProcess;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  db = await createTestDatabase('tw_capabilities');
  service = await startServiceProcess({ service: 'ticket-workflow', env: { DATABASE_URL: db.url, ...JWT, MCP_TOKEN, TASK_LEASE_CHECK_MS: '200' } });
});
afterAll(async () => {
  for (const close of closers) await close().catch(() => undefined);
  await service?.stop();
  await db?.drop();
});

interface Update {
  id: string;
  type: string;
  [field: string]: unknown;
}

/** An agent with a session: its tool calls, and the notifications the server pushes to it. */
async function agent(name: string) {
  const client = new Client({ name, version: '1.0.0' });
  const notifications: Update[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    if (n.params.logger === 'ticket-workflow') notifications.push(n.params.data as Update);
  });
  const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${service.port}/mcp`), { requestInit: { headers: { authorization: `Bearer ${MCP_TOKEN}` } } });
  await client.connect(transport);
  closers.push(() => client.close());
  const call = async (tool: string, args: Record<string, unknown>) =>
    (await client.callTool({ name: tool, arguments: args })) as { isError?: boolean; structuredContent?: Record<string, unknown>; content: Array<{ text?: string }> };
  return {
    sessionId: transport.sessionId,
    notifications,
    call,
    ok: async <T = Record<string, unknown>>(tool: string, args: Record<string, unknown>): Promise<T> => {
      const result = await call(tool, args);
      if (result.isError) throw new Error(`${tool} failed: ${result.content[0]?.text}`);
      return result.structuredContent as T;
    },
    refused: async (tool: string, args: Record<string, unknown>) => {
      const result = await call(tool, args);
      expect(result.isError, `${tool} should be refused`).toBe(true);
      return (result.structuredContent as { error: { code: string; message: string } }).error;
    },
  };
}

/** A dashboard reading GET /v1/events/stream: parsed events as they arrive. */
async function dashboard(headers: Record<string, string> = {}) {
  const token = await mintToken({ secret: JWT.JWT_SECRET, issuer: JWT.JWT_ISSUER, audience: JWT.JWT_AUDIENCE, sub: 'dana', roles: ['viewer'], mfa: false, ttlSec: 600 });
  const controller = new AbortController();
  const res = await fetch(`http://127.0.0.1:${service.port}/v1/events/stream`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers }, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const events: Array<{ id: string; event: string; data: Update }> = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':') && l.includes(': ')).map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]));
        if (fields.data) events.push({ id: fields.id!, event: fields.event!, data: JSON.parse(fields.data) as Update });
      }
    }
  })();
  const close = async () => controller.abort();
  closers.push(close);
  return { events, close };
}

const arrives = async <T>(list: T[], match: (item: T) => boolean, what: string) => {
  await waitFor(() => list.some(match), { timeoutMs: 15_000, what });
  return list.find(match)!;
};

describe('coordinator capabilities over MCP (official client, session, separate process)', () => {
  it('manages worker types and projects, runs dependent tickets in order, releases a failed worker’s task, and tells every watcher live', async () => {
    const coordinator = await agent('coordinator');
    expect(coordinator.sessionId).toBeTruthy();
    const board = await dashboard();

    // Worker types with instructions; a worker registering gets its type's.
    await coordinator.ok('create_worker_type', { worker_type: 'designer', description: 'Designs the data model', instructions: 'Write the schema first.' });
    await coordinator.ok('create_worker_type', { worker_type: 'builder', description: 'Builds features', instructions: 'Small commits.' });
    await coordinator.ok('update_worker_type', { worker_type: 'builder', instructions: 'Small commits, with tests.' });
    const types = (await coordinator.ok<{ items: Array<{ worker_type: string }> }>('list_worker_types', {})).items.map((t) => t.worker_type);
    expect(types).toEqual(['builder', 'designer']);
    const designer = await agent('designer-1');
    const builders = [await agent('builder-1'), await agent('builder-2')];
    expect((await designer.ok<{ instructions: string }>('register_worker', { worker_id: 'designer-1', worker_type: 'designer' })).instructions).toBe('Write the schema first.');
    for (const [i, b] of builders.entries()) {
      expect((await b.ok<{ instructions: string }>('register_worker', { worker_id: `builder-${i + 1}`, worker_type: 'builder' })).instructions).toBe('Small commits, with tests.');
    }

    // A project with a key of our choosing, then a changed key; a duplicate key is refused.
    await coordinator.ok('register_project', { project_id: 'acme/shop', key: 'SHOP' });
    expect((await coordinator.refused('register_project', { project_id: 'other/shop', key: 'SHOP' })).code).toBe('PROJECT_KEY_TAKEN');
    const schema = await coordinator.ok<{ ticket_id: string }>('create_ticket', { project_id: 'acme/shop', title: 'Schema', description: 'Tables', execution_plan: ['designer'] });
    await coordinator.ok('update_project', { project_id: 'acme/shop', key: 'STORE', name: 'Store' });
    const api = await coordinator.ok<{ ticket_id: string }>('create_ticket', { project_id: 'acme/shop', title: 'API', description: 'Endpoints', execution_plan: ['builder'] });
    expect([schema.ticket_id, api.ticket_id]).toEqual(['SHOP-001', 'STORE-002']);
    expect(await coordinator.ok('get_project', { project_id: 'acme/shop' })).toMatchObject({ key: 'STORE', previous_keys: ['SHOP'], name: 'Store' });

    // The API depends on the schema: queued first, but blocked; a cycle is refused.
    await coordinator.ok('add_ticket_dependency', { ticket_id: api.ticket_id, depends_on: schema.ticket_id });
    expect((await coordinator.refused('add_ticket_dependency', { ticket_id: schema.ticket_id, depends_on: api.ticket_id })).code).toBe('DEPENDENCY_CYCLE');
    await coordinator.ok('queue_task', { ticket_id: api.ticket_id, worker_type: 'builder' });
    await coordinator.ok('queue_task', { ticket_id: schema.ticket_id, worker_type: 'designer' });
    expect((await builders[0]!.ok<{ task: unknown }>('take_next_task', { worker_id: 'builder-1' })).task).toBeNull();
    const graph = await coordinator.ok<{ status: string; depends_on: Array<{ ticket_id: string }> }>('get_ticket_dependencies', { ticket_id: api.ticket_id });
    expect(graph).toMatchObject({ status: 'blocked', depends_on: [{ ticket_id: schema.ticket_id }] });
    expect((await coordinator.ok<{ items: Array<{ ticket_id: string }> }>('get_tickets_by_stage', { stage: 'builder' })).items.map((t) => t.ticket_id)).toEqual([api.ticket_id]);

    // The designer does the schema; the coordinator closes it; the API becomes ready.
    await designer.ok('take_next_task', { worker_id: 'designer-1' });
    await designer.ok('complete_ticket_stage', { ticket_id: schema.ticket_id, worker_type: 'designer', worker_id: 'designer-1', content: 'schema ready' });
    await coordinator.ok('close_ticket', { ticket_id: schema.ticket_id, status: 'Completed' });
    expect((await coordinator.ok<{ dependency_status: string }>('get_ticket', { ticket_id: api.ticket_id })).dependency_status).toBe('ready');

    // builder-1 takes it and fails; the task goes back to its queue and builder-2 finishes the work.
    expect((await builders[0]!.ok<{ task: { ticket_id: string } }>('take_next_task', { worker_id: 'builder-1' })).task.ticket_id).toBe(api.ticket_id);
    // (Released by the status change itself, or by the lease keeper if it saw the failed worker first: either way recorded.)
    expect(await builders[0]!.ok('update_worker_status', { worker_id: 'builder-1', status: 'failed', reason: 'crashed' })).toMatchObject({ status: 'failed' });
    await arrives(coordinator.notifications, (u) => u.type === 'task_released' && u.ticket_id === api.ticket_id, 'the release');
    expect((await builders[1]!.ok<{ task: { ticket_id: string } }>('take_next_task', { worker_id: 'builder-2' })).task.ticket_id).toBe(api.ticket_id);
    expect((await coordinator.refused('complete_ticket_stage', { ticket_id: api.ticket_id, worker_type: 'builder', worker_id: 'builder-1', content: 'me' })).code).toBe('WORKER_STOPPED');
    await builders[1]!.ok('complete_ticket_stage', { ticket_id: api.ticket_id, worker_type: 'builder', worker_id: 'builder-2', content: 'endpoints done' });
    await coordinator.ok('close_ticket', { ticket_id: api.ticket_id, status: 'Completed' });

    // The project can go once nothing is open; the type nobody needs any more too.
    await coordinator.ok('delete_project', { project_id: 'acme/shop' });
    expect((await coordinator.refused('delete_worker_type', { worker_type: 'builder' })).code).toBe('WORKER_TYPE_IN_USE');
    await builders[1]!.ok('update_worker_status', { worker_id: 'builder-2', status: 'finished' });
    await coordinator.ok('delete_worker_type', { worker_type: 'builder' });

    // Every watcher saw it happen: the coordinator's MCP session (notifications on its GET stream) and the dashboard (SSE).
    const expected: Array<[string, (u: Update) => boolean]> = [
      ['ticket_created', (u) => u.ticket_id === api.ticket_id],
      ['dependency_added', (u) => u.ticket_id === api.ticket_id && u.depends_on === schema.ticket_id],
      ['task_queued', (u) => u.ticket_id === api.ticket_id],
      ['stage_completed', (u) => u.ticket_id === schema.ticket_id && u.worker_id === 'designer-1'],
      ['task_taken', (u) => u.ticket_id === api.ticket_id && u.worker_id === 'builder-1'],
      ['worker_status', (u) => u.worker_id === 'builder-1' && u.status === 'failed'],
      ['task_released', (u) => u.ticket_id === api.ticket_id && u.worker_id === 'builder-1' && u.cause === 'worker_stopped'],
      ['task_taken', (u) => u.ticket_id === api.ticket_id && u.worker_id === 'builder-2'],
      ['project_changed', (u) => u.project_id === 'acme/shop' && u.change === 'key_changed' && u.key === 'STORE'],
      ['worker_type_changed', (u) => u.worker_type === 'builder' && u.change === 'deleted'],
    ];
    for (const [type, match] of expected) {
      await arrives(coordinator.notifications, (u) => u.type === type && match(u), `MCP notification ${type}`);
      await arrives(board.events, (e) => e.event === type && e.data.type === type && match(e.data), `SSE event ${type}`);
    }
    // In the order they happened, on both channels.
    const order = (updates: Update[]) => updates.filter((u) => u.ticket_id === api.ticket_id && u.type.startsWith('task_')).map((u) => `${u.type}:${u.worker_id ?? ''}`);
    expect(order(coordinator.notifications)).toEqual(['task_queued:', 'task_taken:builder-1', 'task_released:builder-1', 'task_taken:builder-2']);
    expect(order(board.events.map((e) => e.data))).toEqual(order(coordinator.notifications));
    // A worker's own session is told too.
    await arrives(builders[1]!.notifications, (u) => u.type === 'task_released', 'notification to another session');
  });

  it('lets a dashboard resume after the last event it saw (Last-Event-ID) and filter by type', async () => {
    const coordinator = await agent('coordinator-2');
    const first = await dashboard();
    const t = await coordinator.ok<{ ticket_id: string }>('create_ticket', { project_id: 'resume/app', title: 'R', description: 'R', execution_plan: ['x'] });
    const created = await arrives(first.events, (e) => e.data.ticket_id === t.ticket_id, 'first event');
    await first.close();
    // While nobody watches: the ticket is closed.
    await coordinator.ok('close_ticket', { ticket_id: t.ticket_id, status: 'Stopped' });
    const resumed = await dashboard({ 'last-event-id': created.id });
    const closed = await arrives(resumed.events, (e) => e.event === 'ticket_closed' && e.data.ticket_id === t.ticket_id, 'missed event replayed');
    expect(resumed.events.some((e) => e.id === created.id)).toBe(false);
    expect(closed.data.status).toBe('Stopped');
    const filtered = await dashboard({});
    await filtered.close();
    const onlyClosed = await fetch(`http://127.0.0.1:${service.port}/v1/events/stream?types=nonsense`, {
      headers: { authorization: `Bearer ${await mintToken({ secret: JWT.JWT_SECRET, issuer: JWT.JWT_ISSUER, audience: JWT.JWT_AUDIENCE, sub: 'd', roles: ['viewer'], mfa: false, ttlSec: 60 })}`, accept: 'text/event-stream' },
    });
    expect(onlyClosed.status).toBe(400);
  });

  it('refuses the event stream without a token, without Accept: text/event-stream, and a GET /mcp stream without a session', async () => {
    expect((await fetch(`http://127.0.0.1:${service.port}/v1/events/stream`, { headers: { accept: 'text/event-stream' } })).status).toBe(401);
    const viewer = await mintToken({ secret: JWT.JWT_SECRET, issuer: JWT.JWT_ISSUER, audience: JWT.JWT_AUDIENCE, sub: 'd', roles: ['viewer'], mfa: false, ttlSec: 60 });
    const notSse = await fetch(`http://127.0.0.1:${service.port}/v1/events/stream`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(notSse.status).toBe(406);
    const mcpGet = await fetch(`http://127.0.0.1:${service.port}/mcp`, { headers: { authorization: `Bearer ${MCP_TOKEN}`, accept: 'text/event-stream' } });
    expect(mcpGet.status).toBe(405);
    const foreign = await fetch(`http://127.0.0.1:${service.port}/mcp`, { headers: { authorization: `Bearer ${MCP_TOKEN}`, accept: 'text/event-stream', 'mcp-session-id': 'not-a-session' } });
    expect(foreign.status).toBe(404);
  });
});
