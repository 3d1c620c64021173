import { basename } from 'node:path';
import { ERROR_CODES, conflict, deriveProjectKey, isTicketWorkflowError, keyCandidates, keyTaken, notFound, projectDecider, projectKeyDecider, streams, type ProjectState } from '../domain/index';
import { findProject, findProjectsByKey, queryOpenTicketsOfProject, queryProjects, type ProjectRow } from '../projections/index';
import type { WorkflowContext } from './context';
import { execute, loadAggregate, type Alongside } from './event-sourcing';
import { distributionRoots } from './files';
import type { DeleteProjectInput, Input, ProjectRef, RegisterProjectInput, UpdateProjectInput } from './schemas';

export interface ProjectView {
  project_id: string;
  key: string;
  /** Keys it had before (its older tickets carry them); they stay reserved to it. */
  previous_keys: string[];
  name: string;
  directory: string | null;
  deleted: boolean;
}

const view = (s: ProjectState): ProjectView => ({
  project_id: s.projectId,
  key: s.key,
  previous_keys: s.keys.filter((k) => k !== s.key),
  name: s.name,
  directory: s.directory,
  deleted: s.deleted,
});

/**
 * Reserves `key` for `projectId` alongside a project's command: the key's own stream (atomic,
 * whoever races) and, for projects registered before keys had streams, the read model.
 */
export async function reserveKey(ctx: WorkflowContext, other: Alongside, key: string, projectId: string, at: string): Promise<void> {
  // A deleted project that never numbered a ticket gave its keys back; every other holder keeps them.
  const legacy = (await findProjectsByKey(ctx.pool, ctx.schema, key)).find((p) => p.project_id !== projectId && !(p.deleted_at !== null && p.ticket_count === 0));
  if (legacy) throw keyTaken(key, legacy.project_id);
  await other.decide(streams.projectKey(key), projectKeyDecider, { type: 'ReserveProjectKey' as const, key, projectId, at });
}

/**
 * Runs `attempt` with each key in turn until one is not taken: an explicit key is tried
 * alone (a clash is the caller's error); a derived one moves on to KEY2, KEY3, … — also when
 * another project took the key between our look at the read model and our reservation.
 */
export async function withFreeKey<T>(ctx: WorkflowContext, projectId: string, explicit: string | undefined, attempt: (key: string) => Promise<T>): Promise<T> {
  if (explicit !== undefined) return attempt(explicit);
  const candidates = keyCandidates(deriveProjectKey(projectId));
  for (const key of candidates) {
    if ((await findProjectsByKey(ctx.pool, ctx.schema, key)).some((p) => p.project_id !== projectId && !(p.deleted_at !== null && p.ticket_count === 0))) continue;
    try {
      return await attempt(key);
    } catch (error) {
      if (isTicketWorkflowError(error) && error.code === ERROR_CODES.projectKeyTaken) continue;
      throw error;
    }
  }
  throw conflict(ERROR_CODES.projectKeyTaken, `no free key derived from ${projectId}; give one with key`);
}

/**
 * Registers a project, its key reserved in the same transaction: two projects never get
 * one key. Registering the same project again is a no-op; a deleted one comes back (its
 * ticket numbers continue, so no id is ever reused).
 */
export async function registerProject(ctx: WorkflowContext, input: Input<typeof RegisterProjectInput>): Promise<ProjectView> {
  // A project's directory is where distributions write: inside the projects root, stored as its real path.
  const directory = input.directory === undefined ? null : await distributionRoots(ctx).projects.resolve(input.directory, 'directory');
  const name = input.name ?? basename(input.project_id);
  const { state: known } = await loadAggregate(ctx, streams.project(input.project_id), projectDecider);
  // Re-registering keeps the key unless a new one is asked for.
  const explicit = input.key ?? (known.exists ? known.key : undefined);
  return withFreeKey(ctx, input.project_id, explicit, async (key) => {
    const at = ctx.clock().toISOString();
    const { state } = await execute(
      ctx,
      streams.project(input.project_id),
      projectDecider,
      { type: 'RegisterProject' as const, projectId: input.project_id, key, name, directory, at },
      { alongside: (other) => reserveKey(ctx, other, key, input.project_id, at) },
    );
    return view(state);
  });
}

/** Changes a project's name, directory or key; a new key is reserved, the old one stays the project's (its tickets' ids). */
export async function updateProject(ctx: WorkflowContext, input: Input<typeof UpdateProjectInput>): Promise<ProjectView> {
  const directory = input.directory === undefined ? undefined : input.directory === null ? null : await distributionRoots(ctx).projects.resolve(input.directory, 'directory');
  const at = ctx.clock().toISOString();
  await requireProject(ctx, input.project_id);
  const { state } = await execute(
    ctx,
    streams.project(input.project_id),
    projectDecider,
    { type: 'UpdateProject' as const, ...(input.key !== undefined ? { key: input.key } : {}), ...(input.name !== undefined ? { name: input.name } : {}), ...(directory !== undefined ? { directory } : {}), at },
    {
      alongside: async (other, { events }) => {
        if (input.key !== undefined && events.some((e) => e.type === 'ProjectKeyChanged')) await reserveKey(ctx, other, input.key, input.project_id, at);
      },
    },
  );
  return view(state);
}

/**
 * Deletes a project that has no open ticket (the guard, on the read models). A project
 * that never numbered a ticket gives its keys back; one that did keeps them reserved, so
 * its tickets' ids stay unique.
 */
export async function deleteProject(ctx: WorkflowContext, input: Input<typeof DeleteProjectInput>): Promise<ProjectView> {
  const at = ctx.clock().toISOString();
  await requireProject(ctx, input.project_id);
  const open = await queryOpenTicketsOfProject(ctx.pool, ctx.schema, input.project_id);
  const { state } = await execute(
    ctx,
    streams.project(input.project_id),
    projectDecider,
    { type: 'DeleteProject' as const, openTickets: open, at },
    {
      alongside: async (other, { before }) => {
        if (before.lastNumber > 0) return;
        for (const key of before.keys) await other.decide(streams.projectKey(key), projectKeyDecider, { type: 'ReleaseProjectKey' as const, key, projectId: input.project_id, at });
      },
    },
  );
  return view(state);
}

export async function getProject(ctx: WorkflowContext, input: Input<typeof ProjectRef>): Promise<ProjectView & { ticket_count: number }> {
  const { state } = await loadAggregate(ctx, streams.project(input.project_id), projectDecider);
  if (!state.exists) throw notFound(ERROR_CODES.projectNotFound, `project ${input.project_id} is not registered`);
  const row = await findProject(ctx.pool, ctx.schema, input.project_id);
  return { ...view(state), ticket_count: row?.ticket_count ?? state.lastNumber };
}

export async function listProjects(ctx: WorkflowContext, input: { include_deleted?: boolean }) {
  return (await queryProjects(ctx.pool, ctx.schema, input.include_deleted ?? false)).map(rowView);
}

const rowView = (p: ProjectRow) => ({ ...p, registered_at: p.registered_at.toISOString(), deleted_at: p.deleted_at?.toISOString() ?? null });

/** A project once registered stays known (deleted is a state of it), so this is checked once, before the command. */
async function requireProject(ctx: WorkflowContext, projectId: string): Promise<ProjectState> {
  const { state } = await loadAggregate(ctx, streams.project(projectId), projectDecider);
  if (!state.exists) throw notFound(ERROR_CODES.projectNotFound, `project ${projectId} is not registered`);
  return state;
}

/** Takes the next number of the project's sequence: the readable id of a new ticket (template distribution). */
export async function reserveTicketId(ctx: WorkflowContext, projectId: string): Promise<{ ticketId: string; number: number }> {
  const at = ctx.clock().toISOString();
  const { events } = await execute(ctx, streams.project(projectId), projectDecider, { type: 'AssignTicketNumber' as const, at }, { waitForReadModels: false });
  const assigned = events[0];
  if (assigned?.type !== 'ProjectTicketNumberAssigned') throw new Error('no ticket number was assigned');
  return { ticketId: assigned.data.ticketId, number: assigned.data.number };
}
