import { basename } from 'node:path';
import {
  ERROR_CODES,
  formatTicketId,
  invalid,
  nextStage,
  notFound,
  parseTicketId,
  projectDecider,
  streams,
  ticketDecider,
  type Priority,
  type ProjectEvent,
  type TicketEvent,
  type TicketState,
} from '../domain/index';
import { queryDependenciesOf, queryTickets, queryTicketsByStage, type TicketRow } from '../projections/index';
import type { WorkflowContext } from './context';
import { execute, loadAggregate } from './event-sourcing';
import { reserveKey, withFreeKey } from './projects';
import type { CreateTicketInput, Input, ListTicketsInput, TicketsByStageInput } from './schemas';

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
  queued_task: { task_id: string; worker_type: string; taken_by: string | null; taken_at: string | null } | null;
  /** `blocked` while a ticket it depends on is open, else `ready`. */
  dependency_status: 'ready' | 'blocked';
  depends_on: Array<{ ticket_id: string; state: string }>;
  blocked_by: string[];
  source_distribution_id: string | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  comments?: CommentView[];
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
  await execute(ctx, streams.ticket(t.ticketId), ticketDecider, { type: 'CreateTicket' as const, ...t, commentId: ctx.newId(), at: ctx.clock().toISOString() });
}

/**
 * Registers the project when it is new (its key reserved), takes its next number — or the
 * number of the caller's `ticket_id` — and creates the ticket, in ONE transaction: a
 * refusal anywhere (a bad plan, an id taken, a key taken) stores nothing — no project, no
 * number used up.
 */
export async function createTicket(ctx: WorkflowContext, input: Input<typeof CreateTicketInput>): Promise<TicketView> {
  const requested = input.ticket_id === undefined ? undefined : parseTicketId(input.ticket_id);
  if (requested && formatTicketId(requested.key, requested.number) !== input.ticket_id) {
    throw invalid(ERROR_CODES.validation, `write the ticket id as ${formatTicketId(requested.key, requested.number)}, not ${input.ticket_id}`);
  }
  const projectStream = streams.project(input.project_id);
  const { state: known } = await loadAggregate(ctx, projectStream, projectDecider);
  if (known.exists && known.deleted) throw invalid(ERROR_CODES.projectDeleted, `project ${input.project_id} was deleted; register it again to add tickets`);
  // A new project takes the key of the caller's ticket id, else a derived one.
  const explicitKey = known.exists ? known.key : requested?.key;
  const ticketId = await withFreeKey(ctx, input.project_id, explicitKey, async (key) => {
    const at = ctx.clock().toISOString();
    const claim = requested ? { claim: { key: requested.key, number: requested.number } } : {};
    const { events } = await execute(
      ctx,
      projectStream,
      projectDecider,
      { type: 'NumberNewTicket' as const, register: { projectId: input.project_id, key, name: basename(input.project_id) }, ...claim, at },
      {
        alongside: async (other, { events: decided }) => {
          if (decided.some((e) => e.type === 'ProjectRegistered')) await reserveKey(ctx, other, key, input.project_id, at);
          const assigned = numberOf(decided);
          await other.decide(streams.ticket(assigned.ticketId), ticketDecider, {
            type: 'CreateTicket' as const,
            ticketId: assigned.ticketId,
            number: assigned.number,
            projectId: input.project_id,
            title: input.title,
            description: input.description,
            executionPlan: input.execution_plan,
            priority: input.priority,
            commentId: ctx.newId(),
            at,
          });
        },
      },
    );
    return numberOf(events).ticketId;
  });
  return getTicket(ctx, ticketId, { comments: false });
}

/** The number a NumberNewTicket decided. */
function numberOf(events: readonly ProjectEvent[]): { ticketId: string; number: number } {
  const assigned = events.find((e) => e.type === 'ProjectTicketNumberAssigned');
  if (assigned?.type !== 'ProjectTicketNumberAssigned') throw new Error('no ticket number was assigned');
  return assigned.data;
}

/** A ticket and its comments, read from its own stream: always up to date. */
export async function getTicket(ctx: WorkflowContext, ticketId: string, { comments = true } = {}): Promise<TicketView> {
  const { state, events } = await loadAggregate(ctx, streams.ticket(ticketId), ticketDecider);
  if (!state.exists) throw notFound(ERROR_CODES.ticketNotFound, `ticket ${ticketId} does not exist`);
  const dependsOn = (await queryDependenciesOf(ctx.pool, ctx.schema, [ticketId])).map((d) => ({ ticket_id: d.depends_on, state: d.state ?? 'unknown' }));
  return ticketView(state, events.map((e) => ({ type: e.type, data: e.data }) as TicketEvent), comments, dependsOn);
}

function ticketView(state: TicketState, events: TicketEvent[], withComments: boolean, dependsOn: TicketView['depends_on']): TicketView {
  const blockedBy = dependsOn.filter((d) => d.state !== 'closed').map((d) => d.ticket_id);
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
    queued_task: state.task ? { task_id: state.task.taskId, worker_type: state.task.workerType, taken_by: state.task.takenBy, taken_at: state.task.takenAt } : null,
    dependency_status: blockedBy.length > 0 ? 'blocked' : 'ready',
    depends_on: dependsOn,
    blocked_by: blockedBy,
    source_distribution_id: created?.source?.distributionId ?? null,
    created_at: created?.at ?? '',
    updated_at: updatedAt,
    closed_at: closedAt,
    ...(withComments ? { comments } : {}),
  };
}

export type TicketListItem = ReturnType<typeof rowView>;

export async function listTickets(ctx: WorkflowContext, input: Input<typeof ListTicketsInput>): Promise<TicketListItem[]> {
  const rows = await queryTickets(ctx.pool, ctx.schema, { ...(input.project_id ? { projectId: input.project_id } : {}), state: input.status, limit: input.limit });
  return rows.map(rowView);
}

/**
 * Tickets at a stage: open tickets whose next stage is `stage` (a worker type), open
 * tickets not started (`Planned`), or tickets closed as `Completed` / `Stopped`.
 */
export async function getTicketsByStage(ctx: WorkflowContext, input: Input<typeof TicketsByStageInput>): Promise<TicketListItem[]> {
  const rows = await queryTicketsByStage(ctx.pool, ctx.schema, { stage: input.stage, ...(input.project_id ? { projectId: input.project_id } : {}), limit: input.limit });
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
  dependency_status: r.blocked_by.length > 0 ? ('blocked' as const) : ('ready' as const),
  blocked_by: r.blocked_by,
  source_distribution_id: r.source_distribution_id,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
  closed_at: r.closed_at?.toISOString() ?? null,
});

