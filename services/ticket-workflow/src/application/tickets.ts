import { basename } from 'node:path';
import {
  COORDINATOR,
  ERROR_CODES,
  deriveProjectKey,
  nextStage,
  notFound,
  projectDecider,
  streams,
  ticketDecider,
  type CloseStatus,
  type Priority,
  type TicketEvent,
  type TicketState,
} from '../domain/index';
import { findProjectsByKey, queryTickets, type TicketRow } from '../projections/index';
import type { WorkflowContext } from './context';
import { execute, executeTogether, loadAggregate } from './event-sourcing';
import { distributionRoots } from './files';
import type { Input } from './schemas';
import type { AddCommentInput, CloseTicketInput, CompleteStageInput, CreateTicketInput, ListTicketsInput, RegisterProjectInput, UpdateStageInput } from './schemas';

export interface CommentView {
  comment_id: string;
  worker_type: string;
  worker_id: string;
  stage_number: number;
  content: string;
  created_at: string;
}

export interface TicketView {
  ticket_id: string;
  project_id: string;
  title: string;
  priority: string;
  execution_plan: string[];
  last_completed_stage: string;
  /** The stage to do next, or null when the plan is done. */
  next_stage: string | null;
  completed_stages: number;
  state: 'open' | 'closed';
  closed_as: string | null;
  queued_task: { task_id: string; worker_type: string; taken_by: string | null } | null;
  source_distribution_id: string | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  comments?: CommentView[];
}

export interface ProjectView {
  project_id: string;
  key: string;
  name: string;
  directory: string | null;
}

export async function registerProject(ctx: WorkflowContext, input: Input<typeof RegisterProjectInput>): Promise<ProjectView> {
  // A project's directory is where distributions write: inside the projects root, stored as its real path.
  const directory = input.directory === undefined ? null : await distributionRoots(ctx).projects.resolve(input.directory, 'directory');
  const key = input.key ?? (await freeKey(ctx, deriveProjectKey(input.project_id), input.project_id));
  const name = input.name ?? basename(input.project_id);
  const { state } = await execute(ctx, streams.project(input.project_id), projectDecider, () => ({
    type: 'RegisterProject' as const,
    projectId: input.project_id,
    key,
    name,
    directory,
    at: ctx.clock().toISOString(),
  }));
  return { project_id: state.projectId, key: state.key, name: state.name, directory: state.directory };
}

/**
 * A derived key not used by another project (WEB, WEB2, WEB3…). Checked on the read
 * model, so two registrations racing for one key may still both get it; their tickets
 * then collide on the ticket stream, which refuses the second (never a silent merge).
 */
async function freeKey(ctx: WorkflowContext, base: string, projectId: string): Promise<string> {
  for (let n = 1; n < 100; n++) {
    const key = n === 1 ? base : `${base.slice(0, 8)}${n}`;
    const users = await findProjectsByKey(ctx.pool, ctx.schema, key);
    if (users.every((p) => p.project_id === projectId)) return key;
  }
  return `${base.slice(0, 4)}${Date.now().toString(36).toUpperCase().slice(-4)}`;
}

/** Takes the next number of the project's sequence: the readable id of a new ticket. */
export async function reserveTicketId(ctx: WorkflowContext, projectId: string): Promise<{ ticketId: string; number: number }> {
  const { events } = await execute(ctx, streams.project(projectId), projectDecider, () => ({ type: 'AssignTicketNumber' as const, at: ctx.clock().toISOString() }), {
    waitForReadModels: false,
  });
  const assigned = events[0];
  if (assigned?.type !== 'ProjectTicketNumberAssigned') throw new Error('no ticket number was assigned');
  return { ticketId: assigned.data.ticketId, number: assigned.data.number };
}

export interface NewTicket {
  ticketId: string;
  number: number;
  projectId: string;
  title: string;
  description: string;
  executionPlan: string[];
  priority: Priority;
  source?: { distributionId: string; template: string };
}

export async function createReservedTicket(ctx: WorkflowContext, t: NewTicket): Promise<void> {
  await execute(ctx, streams.ticket(t.ticketId), ticketDecider, () => ({ type: 'CreateTicket' as const, ...t, commentId: ctx.newId(), at: ctx.clock().toISOString() }));
}

/**
 * Registers the project when it is new, takes its next number and creates the ticket in
 * ONE transaction: a refusal anywhere (a bad plan, a ticket id taken) stores nothing — no
 * project, no number used up.
 */
export async function createTicket(ctx: WorkflowContext, input: Input<typeof CreateTicketInput>): Promise<TicketView> {
  const { state: known } = await loadAggregate(ctx, streams.project(input.project_id), projectDecider);
  const key = known.exists ? known.key : await freeKey(ctx, deriveProjectKey(input.project_id), input.project_id);
  const at = ctx.clock().toISOString();
  const { result: ticketId } = await executeTogether(ctx, async (d) => {
    const projectStream = streams.project(input.project_id);
    await d.decide(projectStream, projectDecider, (s) =>
      s.exists
        ? { type: 'RegisterProject' as const, projectId: s.projectId, key: s.key, name: s.name, directory: s.directory, at }
        : { type: 'RegisterProject' as const, projectId: input.project_id, key, name: basename(input.project_id), directory: null, at },
    );
    const { events } = await d.decide(projectStream, projectDecider, () => ({ type: 'AssignTicketNumber' as const, at }));
    const assigned = events[0]!;
    if (assigned.type !== 'ProjectTicketNumberAssigned') throw new Error('no ticket number was assigned');
    await d.decide(streams.ticket(assigned.data.ticketId), ticketDecider, () => ({
      type: 'CreateTicket' as const,
      ticketId: assigned.data.ticketId,
      number: assigned.data.number,
      projectId: input.project_id,
      title: input.title,
      description: input.description,
      executionPlan: input.execution_plan,
      priority: input.priority,
      commentId: ctx.newId(),
      at,
    }));
    return assigned.data.ticketId;
  });
  return getTicket(ctx, ticketId, { comments: false });
}

/** A ticket and its comments, read from its own stream: always up to date. */
export async function getTicket(ctx: WorkflowContext, ticketId: string, { comments = true } = {}): Promise<TicketView> {
  const { state, events } = await loadAggregate(ctx, streams.ticket(ticketId), ticketDecider);
  if (!state.exists) throw notFound(ERROR_CODES.ticketNotFound, `ticket ${ticketId} does not exist`);
  return ticketView(state, events.map((e) => ({ type: e.type, data: e.data }) as TicketEvent), comments);
}

function ticketView(state: TicketState, events: TicketEvent[], withComments: boolean): TicketView {
  let created: Extract<TicketEvent, { type: 'TicketCreated' }>['data'] | undefined;
  let updatedAt = '';
  let closedAt: string | null = null;
  const comments: CommentView[] = [];
  for (const e of events) {
    updatedAt = e.data.at;
    if (e.type === 'TicketCreated') created = e.data;
    if (e.type === 'TicketClosed') closedAt = e.data.at;
    if (e.type === 'TicketCommentAdded') {
      const { commentId, workerType, workerId, stageNumber, content, at } = e.data;
      comments.push({ comment_id: commentId, worker_type: workerType, worker_id: workerId, stage_number: stageNumber, content, created_at: at });
    }
  }
  return {
    ticket_id: state.ticketId,
    project_id: state.projectId,
    title: created?.title ?? '',
    priority: created?.priority ?? 'medium',
    execution_plan: state.executionPlan,
    last_completed_stage: state.lastCompletedStage,
    next_stage: state.closed ? null : (nextStage(state) ?? null),
    completed_stages: state.completedStages,
    state: state.closed ? 'closed' : 'open',
    closed_as: state.closed,
    queued_task: state.task ? { task_id: state.task.taskId, worker_type: state.task.workerType, taken_by: state.task.takenBy } : null,
    source_distribution_id: created?.source?.distributionId ?? null,
    created_at: created?.at ?? '',
    updated_at: updatedAt,
    closed_at: closedAt,
    ...(withComments ? { comments } : {}),
  };
}

export async function listTickets(ctx: WorkflowContext, input: Input<typeof ListTicketsInput>): Promise<Array<Omit<TicketView, 'comments' | 'queued_task'> & { queued_for: string | null }>> {
  const rows = await queryTickets(ctx.pool, ctx.schema, { ...(input.project_id ? { projectId: input.project_id } : {}), state: input.status, limit: input.limit });
  return rows.map(rowView);
}

const rowView = (r: TicketRow) => ({
  ticket_id: r.ticket_id,
  project_id: r.project_id,
  title: r.title,
  priority: r.priority,
  execution_plan: r.execution_plan,
  last_completed_stage: r.last_completed_stage,
  next_stage: r.state === 'closed' ? null : (r.execution_plan[r.completed_stages] ?? null),
  completed_stages: r.completed_stages,
  state: r.state,
  closed_as: r.closed_as,
  queued_for: r.queued_for,
  source_distribution_id: r.source_distribution_id,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
  closed_at: r.closed_at?.toISOString() ?? null,
});

export async function addComment(ctx: WorkflowContext, input: Input<typeof AddCommentInput>): Promise<CommentView> {
  const commentId = ctx.newId();
  const at = ctx.clock().toISOString();
  await execute(ctx, streams.ticket(input.ticket_id), ticketDecider, () => ({
    type: 'AddComment' as const,
    commentId,
    actor: { workerType: input.worker_type, workerId: input.worker_id },
    stageNumber: input.stage_number,
    content: input.content,
    at,
  }));
  return { comment_id: commentId, worker_type: input.worker_type, worker_id: input.worker_id, stage_number: input.stage_number, content: input.content, created_at: at };
}

/** The comment and the stage change in one append: both are stored, or neither. */
export async function completeStage(ctx: WorkflowContext, input: Input<typeof CompleteStageInput>): Promise<TicketView> {
  await execute(ctx, streams.ticket(input.ticket_id), ticketDecider, () => ({
    type: 'CompleteStage' as const,
    stage: input.stage ?? input.worker_type,
    ...(input.stage_number !== undefined ? { stageNumber: input.stage_number } : {}),
    actor: { workerType: input.worker_type, workerId: input.worker_id },
    content: input.content,
    commentId: ctx.newId(),
    at: ctx.clock().toISOString(),
  }));
  return getTicket(ctx, input.ticket_id, { comments: false });
}

/** The coordinator marks the next stage done without a report (same plan-order rule). */
export async function updateStage(ctx: WorkflowContext, input: Input<typeof UpdateStageInput>): Promise<TicketView> {
  await execute(ctx, streams.ticket(input.ticket_id), ticketDecider, () => ({
    type: 'CompleteStage' as const,
    stage: input.new_stage,
    ...(input.stage_number !== undefined ? { stageNumber: input.stage_number } : {}),
    actor: COORDINATOR,
    commentId: ctx.newId(),
    at: ctx.clock().toISOString(),
  }));
  return getTicket(ctx, input.ticket_id, { comments: false });
}

export async function closeTicket(ctx: WorkflowContext, input: Input<typeof CloseTicketInput>): Promise<TicketView> {
  await closeWith(ctx, input.ticket_id, input.status, input.reason);
  return getTicket(ctx, input.ticket_id);
}

export async function closeWith(ctx: WorkflowContext, ticketId: string, status: CloseStatus, reason?: string): Promise<void> {
  await execute(ctx, streams.ticket(ticketId), ticketDecider, () => ({
    type: 'CloseTicket' as const,
    status,
    ...(reason ? { reason } : {}),
    commentId: ctx.newId(),
    at: ctx.clock().toISOString(),
  }));
}
