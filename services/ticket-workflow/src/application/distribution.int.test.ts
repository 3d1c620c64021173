/**
 * Template distribution through the service's use cases, on the real event store and real
 * files: every run that writes files is logged (also with explicit directories only) and
 * rolls back; a rollback removes what it created and leaves the ticket of an edited file open.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { readDistributionLog } from '../templates/index';
import type { WorkflowContext } from './context';
import { distribute, rollback } from './distribution';
import * as S from './schemas';
import { startTicketWorkflow, type RunningWorkflow } from './start';
import { getTicket } from './tickets';

let db: TestDatabase;
let store: PostgresEventStore;
let workflow: RunningWorkflow;
let ctx: WorkflowContext;
let root: string;

beforeAll(async () => {
  db = await createTestDatabase('tw_distribution');
  store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  root = await mkdtemp(join(tmpdir(), 'tw-distribution-'));
  workflow = await startTicketWorkflow({ store, pool: db.pool, files: { templatesRoot: root, projectsRoot: root } });
  ctx = workflow.ctx;
  for (const name of ['alpha', 'beta', 'gamma']) {
    await mkdir(join(root, 'repos', name), { recursive: true });
    await writeFile(join(root, 'repos', name, 'README.md'), name);
  }
});
afterAll(async () => {
  await workflow?.stop();
  await store?.close();
  await db?.drop();
  if (root) await rm(root, { recursive: true, force: true });
});

const run = (name: string, directories: string[]) =>
  distribute(ctx, S.DistributeTemplateInput.parse({ template_name: name, template: '# {{project_name}} {{ticket_id}}\n', directories: directories.map((d) => join(root, 'repos', d)) }));

describe('distribution through the service', () => {
  it('logs a run given explicit directories only (at the projects root), and its rollback', async () => {
    const report = await run('dir-only', ['alpha']);
    expect(report.summary.succeeded).toBe(1);
    const logged = await readDistributionLog(root);
    expect(logged.map((l) => [l.distributionId, l.project, l.issueFile, l.status])).toEqual([[report.distributionId, 'alpha', '001-dir-only.md', 'success']]);
    await rollback(ctx, report.distributionId);
    expect((await readDistributionLog(root)).filter((l) => l.distributionId === report.distributionId).map((l) => l.status)).toEqual(['success', 'rolled_back', 'rollback']);
    expect(await readdir(join(root, 'repos', 'alpha'))).toEqual(['README.md']);
  });

  it('leaves the ticket of an edited file open, withdraws the others, and removes what it created only where nothing was edited', async () => {
    const report = await run('audit', ['beta', 'gamma']);
    const [beta, gamma] = report.results;
    await writeFile(join(root, 'repos', 'beta', 'issues', 'phase-1', '001-audit.md'), '# beta: in progress, do not remove\n');
    const back = await rollback(ctx, report.distributionId);
    expect(back.ticketsKeptOpen).toEqual([beta!.ticketId]);
    expect(back.ticketsWithdrawn).toEqual([gamma!.ticketId]);
    expect((await getTicket(ctx, beta!.ticketId!)).state).toBe('open');
    expect((await getTicket(ctx, gamma!.ticketId!)).closed_as).toBe('Stopped');
    expect(await readdir(join(root, 'repos', 'beta', 'issues', 'phase-1'))).toEqual(['001-audit.md', 'progress.md']);
    expect(await readdir(join(root, 'repos', 'gamma'))).toEqual(['README.md']);
    expect(back.lines).toContain(`Kept open: ticket ${beta!.ticketId} (its file stays)`);
  });
});
