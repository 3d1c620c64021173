export type { WorkflowContext, ReadModelSync } from './context';
export { startTicketWorkflow, type StartWorkflowOptions, type RunningWorkflow } from './start';
export { OPERATIONS, type Operation } from './operations';
export * as inputs from './schemas';
export { distribute, rollback, getDistribution, listDistributions } from './distribution';
export { createTicket, getTicket, listTickets, addComment, completeStage, updateStage, closeTicket, registerProject, type TicketView, type CommentView, type ProjectView } from './tickets';
export { queueTask, getQueueTasks, takeNextTask, type TaskView } from './queues';
export { getEvents, markEventsProcessed, type CoordinatorEventView } from './coordinator';
export { registerWorker, listWorkers, updateWorkerStatus, type WorkerView } from './workers';
