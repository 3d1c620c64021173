import { z } from 'zod';
import type { Access } from '@fairlead/platform';
import type { WorkflowContext } from './context';
import { getEvents, markEventsProcessed } from './coordinator';
import { addDependency, getDependencies, removeDependency } from './dependencies';
import { distribute, getDistribution, listDistributions, rollback } from './distribution';
import { releaseTask, renewTaskLease, resumeTicket, updateWorkerStatusReleasing } from './leases';
import { deleteProject, getProject, listProjects, registerProject, updateProject } from './projects';
import { getQueueTasks, queueTask, takeNextTask } from './queues';
import * as S from './schemas';
import { addComment, closeTicket, completeStage, updateStage } from './stages';
import { createTicket, getTicket, getTicketsByStage, listTickets } from './tickets';
import { createWorkerType, deleteWorkerType, getWorkerType, listWorkerTypes, updateWorkerType } from './worker-types';
import { listWorkers, registerWorker } from './workers';

/**
 * Every operation once: its input schema, its access level, what it does, and where REST
 * serves it. The MCP tools, the REST routes and the CLI are all generated from this list,
 * so the edges cannot drift apart. Each description ends with an example call (the
 * service's README lists the same).
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

/** The default lease of a taken task, when the context does not say (TASK_LEASE_MS). */
export const DEFAULT_TASK_LEASE_MS = 30 * 60_000;

export const OPERATIONS: readonly Operation[] = [
  // Projects
  op({
    name: 'register_project',
    description: 'Register a project: its unique readable ticket key (WEB → WEB-007; derived from the id when omitted, never shared) and, optionally, its directory for template distribution',
    input: S.RegisterProjectInput,
    access: 'operate',
    rest: { method: 'POST', path: '/projects', status: 201 },
    run: registerProject,
  }),
  op({
    name: 'list_projects',
    description: 'List registered projects (deleted ones with include_deleted)',
    input: S.ListProjectsInput,
    access: 'read',
    rest: { method: 'GET', path: '/projects' },
    run: listProjects,
  }),
  op({
    name: 'get_project',
    description: 'One project: key, keys it had before, name, directory, ticket count',
    input: S.ProjectRef,
    access: 'read',
    rest: { method: 'GET', path: '/projects/:project_id' },
    run: getProject,
  }),
  op({
    name: 'update_project',
    description: "Change a project's name, directory or key (new tickets take the new key; old tickets keep their ids and the old key stays reserved to the project)",
    input: S.UpdateProjectInput,
    access: 'operate',
    rest: { method: 'PUT', path: '/projects/:project_id' },
    run: updateProject,
  }),
  op({
    name: 'delete_project',
    description: 'Delete a project; refused while it has open tickets. Its ticket numbers are never reused (register it again to continue)',
    input: S.DeleteProjectInput,
    access: 'operate',
    rest: { method: 'DELETE', path: '/projects/:project_id' },
    run: deleteProject,
  }),
  // Tickets
  op({
    name: 'create_ticket',
    description: 'Create a new ticket with an execution plan (ordered worker types); the description becomes its first comment. ticket_id chooses the id (e.g. WEB-042)',
    input: S.CreateTicketInput,
    access: 'operate',
    rest: { method: 'POST', path: '/tickets', status: 201 },
    run: createTicket,
  }),
  op({
    name: 'get_ticket',
    description: 'Get ticket details with all comments, its task and its dependencies (blocked or ready)',
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
    name: 'get_tickets_by_stage',
    description: 'Tickets at a stage: open tickets whose next stage is the given worker type, Planned (not started), or Completed / Stopped (closed so)',
    input: S.TicketsByStageInput,
    access: 'read',
    rest: { method: 'GET', path: '/stages/:stage/tickets' },
    run: getTicketsByStage,
  }),
  op({
    name: 'add_ticket_comment',
    description: 'Add a comment to a ticket (the holder of its task commenting keeps its lease)',
    input: S.AddCommentInput,
    access: 'operate',
    rest: { method: 'POST', path: '/tickets/:ticket_id/comments', status: 201 },
    run: addComment,
  }),
  op({
    name: 'complete_ticket_stage',
    description:
      "Complete the next stage of a ticket: the report comment and the stage change are stored together. Only a registered worker of the stage's type that holds the task (or when nobody holds it); out of plan order is refused",
    input: S.CompleteStageInput,
    access: 'operate',
    rest: { method: 'POST', path: '/tickets/:ticket_id/stages' },
    run: completeStage,
  }),
  op({
    name: 'update_ticket_stage',
    description: 'Mark the next stage of a ticket completed without a report (coordinator or operator, whoever holds the task). A stage out of plan order is refused',
    input: S.UpdateStageInput,
    access: 'operate',
    rest: { method: 'PUT', path: '/tickets/:ticket_id/stage' },
    run: updateStage,
  }),
  op({
    name: 'close_ticket',
    description: 'Close a ticket as Completed or Stopped; adds the closing comment. A closed ticket takes no more stage changes, and tickets depending on it may become ready',
    input: S.CloseTicketInput,
    access: 'operate',
    rest: { method: 'POST', path: '/tickets/:ticket_id/close' },
    run: closeTicket,
  }),
  op({
    name: 'resume_ticket_processing',
    description:
      'Get a stalled ticket going again: a task held by a worker that stopped or went silent past its lease goes back to its queue; a ticket with no task is queued for its next stage',
    input: S.ResumeTicketInput,
    access: 'operate',
    rest: { method: 'POST', path: '/tickets/:ticket_id/resume' },
    run: (ctx, input) => resumeTicket(ctx, input, ctx.taskLeaseMs ?? DEFAULT_TASK_LEASE_MS),
  }),
  // Dependencies
  op({
    name: 'add_ticket_dependency',
    description: 'Make a ticket wait for another: it is blocked (not handed out by queues) until that one is closed. A dependency that would close a cycle is refused',
    input: S.DependencyInput,
    access: 'operate',
    rest: { method: 'POST', path: '/tickets/:ticket_id/dependencies', status: 201 },
    run: addDependency,
  }),
  op({
    name: 'remove_ticket_dependency',
    description: 'Remove a dependency between two tickets',
    input: S.DependencyInput,
    access: 'operate',
    rest: { method: 'DELETE', path: '/tickets/:ticket_id/dependencies/:depends_on' },
    run: removeDependency,
  }),
  op({
    name: 'get_ticket_dependencies',
    description: "A ticket's dependency graph: what it waits for, what waits for it, every ticket upstream and downstream with its state, and whether it is blocked or ready",
    input: S.TicketRef,
    access: 'read',
    rest: { method: 'GET', path: '/tickets/:ticket_id/dependencies' },
    run: getDependencies,
  }),
  // Queues and tasks
  op({
    name: 'queue_task',
    description: "Queue a ticket for its next stage's worker type (another type is refused); refused when that type has no active or idle worker",
    input: S.QueueTaskInput,
    access: 'operate',
    rest: { method: 'POST', path: '/tickets/:ticket_id/queue', status: 201 },
    run: queueTask,
  }),
  op({
    name: 'get_queue_tasks',
    description: "List the tasks waiting in a worker type's queue, oldest first, with the open tickets each waits for",
    input: S.QueueTasksInput,
    access: 'read',
    rest: { method: 'GET', path: '/queues/:worker_type/tasks' },
    run: getQueueTasks,
  }),
  op({
    name: 'take_next_task',
    description: "Take the oldest ready task of the worker's queue (blocked tickets are skipped); two workers never get the same task. Returns task null when none is ready",
    input: S.TakeNextTaskInput,
    access: 'operate',
    rest: { method: 'POST', path: '/workers/:worker_id/take-next-task' },
    run: takeNextTask,
  }),
  op({
    name: 'release_task',
    description: "Put a ticket's taken task back in its queue for another worker (e.g. its worker is stuck); recorded with the reason",
    input: S.ReleaseTaskInput,
    access: 'operate',
    rest: { method: 'POST', path: '/tickets/:ticket_id/release' },
    run: releaseTask,
  }),
  op({
    name: 'renew_task_lease',
    description: 'The worker holding a task says it is still at work: its lease starts again (a task silent past TASK_LEASE_MS goes back to its queue)',
    input: S.RenewTaskLeaseInput,
    access: 'operate',
    rest: { method: 'POST', path: '/tickets/:ticket_id/lease' },
    run: renewTaskLease,
  }),
  // Coordinator events
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
  // Workers and worker types
  op({
    name: 'register_worker',
    description: "Register a worker of a type (status spawning, active or idle); its queue is the queue of its type; the answer carries the type's instructions",
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
    description: 'Change a worker status; finished or failed stops it, tells the coordinator (worker_stopped) and puts the tasks it held back in their queues',
    input: S.UpdateWorkerStatusInput,
    access: 'operate',
    rest: { method: 'PUT', path: '/workers/:worker_id/status' },
    run: updateWorkerStatusReleasing,
  }),
  op({
    name: 'create_worker_type',
    description: 'Create a worker type with a description and an instructions template (given to each worker of the type when it registers)',
    input: S.CreateWorkerTypeInput,
    access: 'operate',
    rest: { method: 'POST', path: '/worker-types', status: 201 },
    run: createWorkerType,
  }),
  op({
    name: 'list_worker_types',
    description: 'List worker types with their descriptions and instructions',
    input: z.object({}),
    access: 'read',
    rest: { method: 'GET', path: '/worker-types' },
    run: (ctx) => listWorkerTypes(ctx),
  }),
  op({
    name: 'get_worker_type',
    description: 'One worker type: description and instructions template',
    input: S.WorkerTypeRef,
    access: 'read',
    rest: { method: 'GET', path: '/worker-types/:worker_type' },
    run: getWorkerType,
  }),
  op({
    name: 'update_worker_type',
    description: "Change a worker type's description or instructions template",
    input: S.UpdateWorkerTypeInput,
    access: 'operate',
    rest: { method: 'PUT', path: '/worker-types/:worker_type' },
    run: updateWorkerType,
  }),
  op({
    name: 'delete_worker_type',
    description: 'Delete a worker type; refused while a worker of it is not stopped or an open ticket still has a stage of it to do',
    input: S.WorkerTypeRef,
    access: 'operate',
    rest: { method: 'DELETE', path: '/worker-types/:worker_type' },
    run: deleteWorkerType,
  }),
  // Template distribution
  op({
    name: 'distribute_template',
    description:
      'Send a ticket template ({{keyword}} placeholders) to many projects: a ticket in each project and, with a directory, issues/phase-1/NNN-<name>.md. Paths stay inside the templates and projects roots. dry_run previews',
    input: S.DistributeTemplateInput,
    access: 'admin',
    rest: { method: 'POST', path: '/distributions' },
    run: (ctx, input) => distribute(ctx, input),
  }),
  op({
    name: 'rollback_distribution',
    description: 'Withdraw a distribution: close its tickets and remove the files and folders it created, keeping (and reporting) files edited since, whose tickets stay open',
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
