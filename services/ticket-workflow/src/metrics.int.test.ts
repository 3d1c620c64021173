/** The ticket workflow's series read from /metrics after real use cases on PostgreSQL. */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, observeAppends, type PostgresEventStore } from '@fairlead/event-store';
import { createMetricsRegistry, createTokenVerifier, registerMetricsRoute, listen, type HttpApp } from '@fairlead/platform';
import { createTestDatabase, metricValue, scrapeMetrics, waitFor, type TestDatabase } from '@fairlead/testing';
import * as S from './application/schemas';
import { startTicketWorkflow, type RunningWorkflow } from './application/start';
import { registerProject } from './application/projects';
import { closeTicket, completeStage } from './application/stages';
import { createTicket } from './application/tickets';
import { registerWorker } from './application/workers';
import { createTicketWorkflowApp } from './http/app';
import { createTicketWorkflowMetrics } from './metrics';

let db: TestDatabase;
let store: PostgresEventStore;
let workflow: RunningWorkflow;
let app: HttpApp;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase('tw_metrics');
  store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  const registry = createMetricsRegistry('ticket-workflow', { defaultMetrics: false });
  const metrics = createTicketWorkflowMetrics(registry, { projector: () => workflow?.projector });
  workflow = await startTicketWorkflow({ store: observeAppends(store, metrics.onAppended), pool: db.pool });
  const verifyToken = createTokenVerifier({ secret: 'a-secret-of-the-metrics-test-0123456789', issuer: 'fairlead-test', audience: 'fairlead-test' });
  ({ app } = await createTicketWorkflowApp({ ctx: workflow.ctx, logger: pino({ level: 'silent' }), verifyToken, mcp: { verifyToken } }));
  registerMetricsRoute(app, registry);
  base = await listen(app, { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app?.close();
  await workflow?.stop();
  await store?.close();
  await db?.drop();
});

describe('ticket workflow metrics', () => {
  it('count the events recorded by type and follow the read models', async () => {
    const ctx = workflow.ctx;
    await registerProject(ctx, S.RegisterProjectInput.parse({ project_id: 'acme/web', key: 'WEB' }));
    const plan = ['architect', 'developer'];
    const first = await createTicket(ctx, S.CreateTicketInput.parse({ project_id: 'acme/web', title: 'Login', description: 'Sign-in page', execution_plan: plan }));
    await createTicket(ctx, S.CreateTicketInput.parse({ project_id: 'acme/web', title: 'Logout', description: 'Sign-out link', execution_plan: plan }));
    await registerWorker(ctx, S.RegisterWorkerInput.parse({ worker_id: 'arch-1', worker_type: 'architect' }));
    await completeStage(ctx, S.CompleteStageInput.parse({ ticket_id: first.ticket_id, worker_type: 'architect', worker_id: 'arch-1', content: 'Design done' }));
    await closeTicket(ctx, S.CloseTicketInput.parse({ ticket_id: first.ticket_id, status: 'Stopped', reason: 'Superseded' }));

    const text = await scrapeMetrics(base);
    expect(metricValue(text, 'ticket_workflow_events_total', { type: 'ProjectRegistered' })).toBe(1);
    expect(metricValue(text, 'ticket_workflow_events_total', { type: 'TicketCreated' })).toBe(2);
    expect(metricValue(text, 'ticket_workflow_events_total', { type: 'TicketStageCompleted' })).toBe(1);
    expect(metricValue(text, 'ticket_workflow_events_total', { type: 'TicketClosed' })).toBe(1);
    const last = (await store.readAll({ transactionId: 0n, globalPosition: 0n }, 10_000)).events.at(-1)!;
    await waitFor(async () => metricValue(await scrapeMetrics(base), 'ticket_workflow_projection_position') === Number(last.globalPosition), { what: 'the read models caught up' });
  });
});
