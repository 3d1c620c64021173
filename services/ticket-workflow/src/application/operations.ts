import { z } from 'zod';
import type { Access } from '@fairlead/platform';
import type { WorkflowContext } from './context';
import { getEvents, markEventsProcessed } from './coordinator';
import { distribute, getDistribution, listDistributions, rollback } from './distribution';
import { getQueueTasks, queueTask, takeNextTask } from './queues';
import * as S from './schemas';
import { addComment, closeTicket, completeStage, createTicket, getTicket, listTickets, registerProject, updateStage } from './tickets';
import { listWorkers, registerWorker, updateWorkerStatus } from './workers';
import { queryProjects } from '../projections/index';

/**
 * Every operation once: its input schema, what it does, and where REST serves it. The
 * MCP tools, the REST routes and the CLI are all generated from this list, so the
 * three edges cannot drift apart.
 */
export interface Operation<I extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  input: I;
  /**
   * Who may call it with an operator token (REST, and MCP with a JWT): `read` (viewer),
   * `operate` (operator with MFA) or `admin` (admin with MFA, for what touches the server's
   * files: distributing and rolling back templates).
   */
  access: Access;
  rest: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; status?: number };
  run(ctx: WorkflowContext, input: z.output<I>): Promise<unknown>;
}

const op = <I extends z.ZodType>(o: Operation<I>): Operation => o as unknown as Operation;

export const OPERATIONS: readonly Operation[] = [
  op({
    name: 'register_project',
    description: 'Register a project: its readable ticket key (WEB → WEB-007) and, optionally, its directory for template distribution',
    input: S.RegisterProjectInput,
    access: 'operate',
    rest: { method: 'POST', path: '/projects', status: 201 },
    run: registerProject,
  }),
  op({
    name: 'list_projects',
    description: 'List registered projects',
    input: z.object({}),
    access: 'read',
    rest: { method: 'GET', path: '/projects' },
    run: async (ctx) =>
      (await queryProjects(ctx.pool, ctx.schema)).map((p) => ({ ...p, registered_at: p.registered_at.toISOString() })),
  }),
  op({
    name: 'create_ticket',
    description: 'Create a new ticket with an execution plan (ordered worker types); the description becomes its first comment',
    input: S.CreateTicketInput,
    access: 'operate',
    rest: { method: 'POST', path: '/tickets', status: 201 },
    run: createTicket,
  }),
  op({
    name: 'get_ticket',
    description: 'Get ticket details with all comments',
    input: S.TicketRef,
    access: 'read',
    rest: { method: 'GET', path: '/tickets/:ticket_id' },
    run: (ctx, input) => getTicket(ctx, input.ticket_id),
  }),
  op({
    name: 'list_tickets',
    description: 'List tickets, optionally of one project and open or closed only',
    input: S.ListTicketsInput,
    access: 'read',
    rest: { method: 'GET', path: '/tickets' },
    run: listTickets,
  }),
  op({
    name: 'add_ticket_comment',
    description: 'Add a comment to a ticket',
    input: S.AddCommentInput,
    access: 'operate',
    rest: { method: 'POST', path: '/tickets/:ticket_id/comments', status: 201 },
    run: addComment,
  }),
  op({
    name: 'complete_ticket_stage',
    description: 'Complete the next stage of a ticket: the report comment and the stage change are stored together. A stage out of plan order is refused',
    input: S.CompleteStageInput,
    access: 'operate',
    rest: { method: 'POST', path: '/tickets/:ticket_id/stages' },
    run: completeStage,
  }),
  op({
    name: 'update_ticket_stage',
    description: 'Mark the next stage of a ticket completed without a report (coordinator). A stage out of plan order is refused',
    input: S.UpdateStageInput,
    access: 'operate',
    rest: { method: 'PUT', path: '/tickets/:ticket_id/stage' },
    run: updateStage,
  }),
  op({
    name: 'close_ticket',
    description: 'Close a ticket as Completed or Stopped; adds the closing comment. A closed ticket takes no more stage changes',
    input: S.CloseTicketInput,
    access: 'operate',
    rest: { method: 'POST', path: '/tickets/:ticket_id/close' },
    run: closeTicket,
  }),
  op({
    name: 'queue_task',
    description: "Queue a ticket task for a worker type; refused when that type has no active or idle worker",
    input: S.QueueTaskInput,
    access: 'operate',
    rest: { method: 'POST', path: '/tickets/:ticket_id/queue', status: 201 },
    run: queueTask,
  }),
  op({
    name: 'get_queue_tasks',
    description: "List the tasks waiting in a worker type's queue, oldest first",
    input: S.QueueTasksInput,
    access: 'read',
    rest: { method: 'GET', path: '/queues/:worker_type/tasks' },
    run: getQueueTasks,
  }),
  op({
    name: 'take_next_task',
    description: "Take the oldest task of the worker's queue; two workers never get the same task. Returns task null when the queue is empty",
    input: S.TakeNextTaskInput,
    access: 'operate',
    rest: { method: 'POST', path: '/workers/:worker_id/take-next-task' },
    run: takeNextTask,
  }),
  op({
    name: 'get_events',
    description: 'Coordinator events (ticket_stage_completed, worker_stopped) in the order they happened; unprocessed by default',
    input: S.GetEventsInput,
    access: 'read',
    rest: { method: 'GET', path: '/events' },
    run: getEvents,
  }),
  op({
    name: 'mark_events_processed',
    description: 'Mark coordinator events processed (by their event_id from get_events)',
    input: S.MarkEventsProcessedInput,
    access: 'operate',
    rest: { method: 'POST', path: '/events/processed' },
    run: markEventsProcessed,
  }),
  op({
    name: 'register_worker',
    description: 'Register a worker of a type (status spawning, active or idle); its queue is the queue of its type',
    input: S.RegisterWorkerInput,
    access: 'operate',
    rest: { method: 'POST', path: '/workers', status: 201 },
    run: registerWorker,
  }),
  op({
    name: 'list_workers',
    description: 'List workers, optionally of one type or status',
    input: S.ListWorkersInput,
    access: 'read',
    rest: { method: 'GET', path: '/workers' },
    run: listWorkers,
  }),
  op({
    name: 'update_worker_status',
    description: 'Change a worker status; finished or failed stops it and tells the coordinator (worker_stopped)',
    input: S.UpdateWorkerStatusInput,
    access: 'operate',
    rest: { method: 'PUT', path: '/workers/:worker_id/status' },
    run: updateWorkerStatus,
  }),
  op({
    name: 'distribute_template',
    description:
      'Send a ticket template ({{keyword}} placeholders) to many projects: a ticket in each project and, with a directory, issues/phase-1/NNN-<name>.md. dry_run previews',
    input: S.DistributeTemplateInput,
    access: 'admin',
    rest: { method: 'POST', path: '/distributions' },
    run: (ctx, input) => distribute(ctx, input),
  }),
  op({
    name: 'rollback_distribution',
    description: 'Withdraw a distribution: close its tickets and remove its files, keeping (and reporting) files edited since',
    input: S.DistributionRef,
    access: 'admin',
    rest: { method: 'POST', path: '/distributions/:distribution_id/rollback' },
    run: (ctx, input) => rollback(ctx, input.distribution_id),
  }),
  op({
    name: 'get_distribution',
    description: 'One distribution: template version, and which projects got which file and ticket',
    input: S.DistributionRef,
    access: 'read',
    rest: { method: 'GET', path: '/distributions/:distribution_id' },
    run: (ctx, input) => getDistribution(ctx, input.distribution_id),
  }),
  op({
    name: 'list_distributions',
    description: 'Distribution history, newest first',
    input: S.ListDistributionsInput,
    access: 'read',
    rest: { method: 'GET', path: '/distributions' },
    run: listDistributions,
  }),
];
