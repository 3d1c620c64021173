import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { ERROR_CODES, distributionDecider, invalid, isTicketWorkflowError, notFound, projectDecider, streams, ticketDecider, type DistributionCommand, type DistributionState } from '../domain/index';
import { findDistribution, findPreviousDistribution, findProjectByDirectory, findProjects, queryDistributionProjects, queryDistributions } from '../projections/index';
import {
  distributeTemplate,
  rollbackDistribution,
  targetsFromDirectories,
  targetsFromDiscovery,
  type DistributionReport,
  type DistributionTarget,
  type DistributionTracker,
  type ConfinedRoot,
  type RollbackReport,
  type TicketIssuer,
} from '../templates/index';
import type { WorkflowContext } from './context';
import { distributionRoots } from './files';
import { execute, loadAggregate } from './event-sourcing';
import type { DistributeTemplateInput, Input, ListDistributionsInput } from './schemas';
import { registerProject, reserveTicketId } from './projects';
import { closeWith } from './stages';
import { createReservedTicket } from './tickets';

/** The distribution aggregate in the event store; "already distributed" from the read model. */
export function eventStoreTracker(ctx: WorkflowContext): DistributionTracker {
  return {
    execute: async (id: string, command: DistributionCommand) => {
      await execute(ctx, streams.distribution(id), distributionDecider, command);
    },
    load: async (id: string): Promise<DistributionState | undefined> => {
      const { state } = await loadAggregate(ctx, streams.distribution(id), distributionDecider);
      return state.exists ? state : undefined;
    },
    findPrevious: async (target: string, templateName: string) => {
      const distributionId = await findPreviousDistribution(ctx.pool, ctx.schema, target, templateName);
      return distributionId ? { distributionId } : undefined;
    },
  };
}

/** Tickets in the projects' own sequences; a directory target becomes (or finds) a registered project. */
export function serviceTicketIssuer(ctx: WorkflowContext, plan: string[]): TicketIssuer {
  return {
    reserve: async (target) => {
      const projectId = target.projectId ?? (await projectForDirectory(ctx, target.directory!));
      return { ...(await reserveTicketId(ctx, projectId)), projectId };
    },
    create: async (reserved, ticket) => {
      await createReservedTicket(ctx, { ...reserved, ...ticket, executionPlan: plan, priority: 'medium' });
    },
    withdraw: async (ticketId, reason) => {
      const { state } = await loadAggregate(ctx, streams.ticket(ticketId), ticketDecider);
      if (!state.exists || state.closed) return false;
      await closeWith(ctx, ticketId, 'Stopped', reason);
      return true;
    },
  };
}

/** The project registered for a directory, registering one named after the folder when none is. */
async function projectForDirectory(ctx: WorkflowContext, directory: string): Promise<string> {
  const existing = await findProjectByDirectory(ctx.pool, ctx.schema, directory);
  if (existing) return existing.project_id;
  const name = basename(directory).replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'project';
  const { state } = await loadAggregate(ctx, streams.project(name), projectDecider);
  // The folder name is taken by a project elsewhere: make the id unique to this path.
  const projectId = state.exists && state.directory !== directory ? `${name}-${createHash('sha256').update(directory).digest('hex').slice(0, 6)}` : name;
  await registerProject(ctx, { project_id: projectId, name: basename(directory), directory });
  return projectId;
}

/** Template files are markdown of at most this size (as an inline template). */
const MAX_TEMPLATE_BYTES = 200_000;

async function readTemplate(templates: ConfinedRoot, path: string): Promise<string> {
  let content: string;
  try {
    content = (await templates.readFile(path, 'template_path', { maxBytes: MAX_TEMPLATE_BYTES }))!.toString('utf8');
  } catch (error) {
    if (isTicketWorkflowError(error)) throw error;
    throw invalid(ERROR_CODES.validation, `cannot read the template ${path}: ${describeReadError(error)}`);
  }
  if (content.includes('\0')) throw invalid(ERROR_CODES.validation, `the template ${path} contains NUL bytes (not a text file)`);
  return content;
}

const describeReadError = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
};

async function resolveTargets(ctx: WorkflowContext, projects: ConfinedRoot, input: Input<typeof DistributeTemplateInput>): Promise<DistributionTarget[]> {
  const targets: DistributionTarget[] = [];
  if (input.project_ids?.length) {
    const rows = await findProjects(ctx.pool, ctx.schema, input.project_ids);
    const unknown = input.project_ids.filter((id) => !rows.some((r) => r.project_id === id));
    if (unknown.length > 0) throw notFound(ERROR_CODES.projectNotFound, `unknown projects: ${unknown.join(', ')}; register them with register_project first`);
    for (const id of input.project_ids) {
      const row = rows.find((r) => r.project_id === id)!;
      targets.push({ target: id, project: row.name, projectId: id, directory: row.directory });
    }
  }
  if (input.directories?.length) targets.push(...(await targetsFromDirectories(projects, input.directories)));
  if (input.discover_under) {
    try {
      targets.push(...(await targetsFromDiscovery(projects, input.discover_under)));
    } catch (error) {
      if (isTicketWorkflowError(error)) throw error;
      throw invalid(ERROR_CODES.validation, `cannot look for projects under ${input.discover_under}: ${describeReadError(error)}`);
    }
  }
  return targets;
}

export async function distribute(ctx: WorkflowContext, input: Input<typeof DistributeTemplateInput>, onProgress?: (line: string) => void): Promise<DistributionReport> {
  const { templates, projects } = distributionRoots(ctx);
  const content = input.template ?? (await readTemplate(templates, input.template_path!));
  const name = input.template_name ?? basename(input.template_path!).replace(/\.md$/i, '');
  const targets = await resolveTargets(ctx, projects, input);
  // Every run that writes files is logged: by default where discovery looked, else at the projects root.
  const baseDir = input.base_dir ?? input.discover_under ?? projects.path;
  return distributeTemplate(
    { template: { name, content }, targets, keywords: input.keywords, baseDir: await projects.resolve(baseDir, 'base_dir'), force: input.force, dryRun: input.dry_run },
    {
      files: projects,
      clock: ctx.clock,
      newDistributionId: () => distributionId(ctx.clock()),
      tracker: eventStoreTracker(ctx),
      tickets: serviceTicketIssuer(ctx, input.execution_plan),
      ...(onProgress ? { onProgress } : {}),
    },
  );
}

/** `dist_YYYYMMDD_HHMMSS_<random>`: the original's format, made unique within a second. */
export function distributionId(now: Date): string {
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '_');
  return `dist_${stamp}_${createHash('sha256').update(`${now.getTime()}${Math.random()}`).digest('hex').slice(0, 6)}`;
}

export async function rollback(ctx: WorkflowContext, distributionIdToRollBack: string, onProgress?: (line: string) => void): Promise<RollbackReport> {
  try {
    return await rollbackDistribution(distributionIdToRollBack, {
      files: distributionRoots(ctx).projects,
      clock: ctx.clock,
      tracker: eventStoreTracker(ctx),
      tickets: serviceTicketIssuer(ctx, ['developer']),
      ...(onProgress ? { onProgress } : {}),
    });
  } catch (error) {
    if (isTicketWorkflowError(error)) throw error;
    throw new Error(`rollback of ${distributionIdToRollBack} failed: ${(error as Error).message}`, { cause: error });
  }
}

export async function getDistribution(ctx: WorkflowContext, id: string) {
  const row = await findDistribution(ctx.pool, ctx.schema, id);
  if (!row) throw notFound(ERROR_CODES.distributionNotFound, `distribution ${id} does not exist`);
  const projects = await queryDistributionProjects(ctx.pool, ctx.schema, id);
  return { ...row, projects };
}

export async function listDistributions(ctx: WorkflowContext, input: Input<typeof ListDistributionsInput>) {
  return queryDistributions(ctx.pool, ctx.schema, { ...(input.template_name ? { templateName: input.template_name } : {}), limit: input.limit });
}
