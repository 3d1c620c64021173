import { z } from 'zod';
import { Priority, ProjectId, ProjectKey, TicketId, WorkerId, WorkerType } from '../domain/index';

/**
 * The input of every operation, shared by the MCP tools, the REST routes and the CLI,
 * so all three validate alike. Field names are snake_case, as agents send them.
 */

const text = (max: number) => z.string().trim().min(1).max(max);

export const RegisterProjectInput = z.object({
  project_id: ProjectId.describe('Project id, e.g. a repository name like "acme/web"'),
  key: ProjectKey.optional().describe('Prefix of readable ticket ids (WEB → WEB-007); derived from the id when omitted'),
  name: text(200).optional().describe('Display name; the last part of the id when omitted'),
  directory: z.string().min(1).max(1000).optional().describe('Absolute directory of the project, for template distribution'),
});

export const ProjectRef = z.object({ project_id: ProjectId });

export const ListProjectsInput = z.object({ include_deleted: z.boolean().default(false).describe('Also list deleted projects') });

export const UpdateProjectInput = z.object({
  project_id: ProjectId,
  name: text(200).optional().describe('New display name'),
  directory: z.string().min(1).max(1000).nullable().optional().describe('New directory (inside the projects root), or null for none'),
  key: ProjectKey.optional().describe('New key for new tickets (WEB → SITE: the next ticket is SITE-008); old tickets keep their ids and the old key stays reserved to this project'),
});

export const DeleteProjectInput = z.object({ project_id: ProjectId });

export const CreateTicketInput = z.object({
  project_id: ProjectId.describe('Project the ticket belongs to; registered on first use'),
  ticket_id: TicketId.optional().describe(
    "Optional readable id to use (e.g. WEB-042): its prefix must be the project's key (a new project takes it as its key) and it must not exist yet; later numbers continue after the highest",
  ),
  title: text(200).describe('Ticket title'),
  description: text(100_000).describe('Detailed description of what should be done; kept as the first comment'),
  execution_plan: z.array(WorkerType).min(1).max(50).describe('Ordered list of worker types, one per stage'),
  priority: Priority.default('medium').describe('low, medium, high or critical'),
});

export const TicketRef = z.object({ ticket_id: TicketId.describe('Readable ticket id, e.g. WEB-007') });

export const ListTicketsInput = z.object({
  project_id: ProjectId.optional().describe('Only tickets of this project'),
  status: z.enum(['open', 'closed', 'all']).default('all').describe('open, closed or all'),
  limit: z.number().int().min(1).max(1000).default(100),
});

export const AddCommentInput = z.object({
  ticket_id: TicketId,
  worker_type: z.union([WorkerType, z.literal('coordinator')]).describe('Type of the worker adding the comment'),
  worker_id: WorkerId.describe('Id of the worker adding the comment'),
  stage_number: z.number().int().min(0).max(999).describe('Stage number the comment relates to (1 = first stage of the plan)'),
  content: text(100_000).describe('Comment content'),
});

export const CompleteStageInput = z.object({
  ticket_id: TicketId,
  worker_type: WorkerType.describe('Type of the worker completing the stage'),
  worker_id: WorkerId,
  content: text(100_000).describe('The stage report, stored as a comment in the same append as the stage change'),
  stage: WorkerType.optional().describe('The stage being completed; defaults to worker_type. Must be the next stage of the plan'),
  stage_number: z.number().int().min(1).max(999).optional().describe('Optional check: the number of the stage being completed'),
});

export const UpdateStageInput = z.object({
  ticket_id: TicketId,
  new_stage: WorkerType.describe('The stage to mark completed; must be the next stage of the plan'),
  stage_number: z.number().int().min(1).max(999).optional(),
});

export const CloseTicketInput = z.object({
  ticket_id: TicketId,
  status: z.enum(['Completed', 'Stopped']).describe('Completed or Stopped'),
  reason: text(2000).optional().describe('Added to the closing comment'),
});

export const TicketsByStageInput = z.object({
  stage: z
    .union([WorkerType, z.enum(['Planned', 'Completed', 'Stopped'])])
    .describe('A worker type: open tickets whose next stage it is; Planned: open tickets not started; Completed or Stopped: tickets closed so'),
  project_id: ProjectId.optional(),
  limit: z.number().int().min(1).max(1000).default(100),
});

export const DependencyInput = z.object({
  ticket_id: TicketId.describe('The ticket that waits'),
  depends_on: TicketId.describe('The ticket it waits for (until it is closed)'),
});

export const ReleaseTaskInput = z.object({
  ticket_id: TicketId,
  worker_id: WorkerId.optional().describe('Only if this worker holds the task'),
  reason: text(2000).optional(),
});

export const RenewTaskLeaseInput = z.object({ ticket_id: TicketId, worker_id: WorkerId.describe('The worker holding the task') });

export const ResumeTicketInput = z.object({ ticket_id: TicketId, reason: text(2000).optional() });

export const CreateWorkerTypeInput = z.object({
  worker_type: WorkerType,
  description: text(2000).describe('What workers of this type do'),
  instructions: text(100_000).optional().describe('Instructions template given to each worker of the type when it registers'),
});

export const UpdateWorkerTypeInput = z.object({
  worker_type: WorkerType,
  description: text(2000).optional(),
  instructions: text(100_000).nullable().optional().describe('New instructions template, or null for none'),
});

export const WorkerTypeRef = z.object({ worker_type: WorkerType });

export const QueueTaskInput = z.object({
  ticket_id: TicketId,
  worker_type: WorkerType.describe("Worker type whose queue receives the task: the ticket's next stage"),
});

export const QueueTasksInput = z.object({
  worker_type: WorkerType,
  include_taken: z.boolean().default(false).describe('Also list tasks taken but not yet completed'),
  limit: z.number().int().min(1).max(1000).default(100),
});

export const TakeNextTaskInput = z.object({ worker_id: WorkerId.describe('The registered worker asking for work') });

export const GetEventsInput = z.object({
  processed: z.boolean().optional().default(false).describe('false (default): unprocessed only; true: processed only'),
  include_all: z.boolean().default(false).describe('Both processed and unprocessed'),
  limit: z.number().int().min(1).max(1000).default(100),
});

export const MarkEventsProcessedInput = z.object({
  // Ids are bigint positions: bounded here so a forged one is a 400, never a database error.
  event_ids: z
    .array(z.union([z.number().int().positive().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^[1-9]\d{0,17}$/, 'an event id from get_events')]))
    .min(1)
    .max(1000)
    .describe('Ids from get_events'),
});

const RegistrableStatus = z.enum(['spawning', 'active', 'idle']);
export const WorkerStatusInput = z.enum(['spawning', 'active', 'idle', 'finished', 'failed']);

export const RegisterWorkerInput = z.object({
  worker_id: WorkerId,
  worker_type: WorkerType,
  status: RegistrableStatus.default('active').describe('spawning, active or idle'),
});

export const ListWorkersInput = z.object({
  worker_type: WorkerType.optional(),
  status: WorkerStatusInput.optional(),
});

export const UpdateWorkerStatusInput = z.object({
  worker_id: WorkerId,
  status: WorkerStatusInput.describe('finished or failed stop the worker (a worker_stopped event for the coordinator)'),
  reason: text(2000).optional(),
});

export const DistributeTemplateInput = z
  .object({
    template_name: text(120).optional().describe('Name used in file names (NNN-<name>.md) and tracking; defaults to the template file name'),
    template: z.string().min(1).max(200_000).optional().describe('Template markdown with {{keyword}} placeholders'),
    template_path: z.string().min(1).max(1000).optional().describe('Or a path to the template file on the server'),
    project_ids: z.array(ProjectId).max(1000).optional().describe('Registered projects'),
    directories: z.array(z.string().min(1).max(1000)).max(1000).optional().describe('Explicit project directories'),
    discover_under: z.string().min(1).max(1000).optional().describe('Base directory whose project folders are all targets'),
    base_dir: z.string().min(1).max(1000).optional().describe('Where .ticket_distribution_log is written; defaults to discover_under, else the projects root'),
    keywords: z
      .record(z.string().max(100).regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/), z.string().max(10_000))
      .refine((k) => Object.keys(k).length <= 200, 'at most 200 keywords')
      .default({})
      .describe('Keyword values for every project'),
    execution_plan: z.array(WorkerType).min(1).max(50).default(['developer']).describe('Execution plan of the tickets created'),
    force: z.boolean().default(false).describe('Send again to projects that already received this template'),
    dry_run: z.boolean().default(false).describe('Preview: show what would be written, write nothing'),
  })
  .refine((v) => (v.template === undefined) !== (v.template_path === undefined), { message: 'give exactly one of template or template_path', path: ['template'] })
  .refine((v) => v.template_name !== undefined || v.template_path !== undefined, { message: 'template_name is required with an inline template', path: ['template_name'] })
  .refine((v) => (v.project_ids?.length ?? 0) + (v.directories?.length ?? 0) + (v.discover_under ? 1 : 0) > 0, {
    message: 'give target projects: project_ids, directories or discover_under',
    path: ['project_ids'],
  });

export const DistributionRef = z.object({ distribution_id: z.string().min(1).max(100).regex(/^[A-Za-z0-9_-]+$/) });

export const ListDistributionsInput = z.object({
  template_name: text(120).optional(),
  limit: z.number().int().min(1).max(1000).default(50),
});

export type Input<T extends z.ZodType> = z.output<T>;
