import type { Checkpoint, EventStore, StoredEvent, Subscription } from '@fairlead/event-store';
import { WORKFLOW_CATEGORIES, asWorkflowEvent } from '../projections/index';

/**
 * Live updates for connected clients (MCP notifications, the REST event stream): what
 * happened to tickets, tasks and workers, as it happens. Read from the event store's
 * global log — not from this process's own appends — so every instance sees every change,
 * and a client that reconnects can resume after the last update it got (its `id`).
 */
export const LIVE_UPDATE_TYPES = [
  'ticket_created',
  'stage_completed',
  'ticket_closed',
  'task_queued',
  'task_taken',
  'task_released',
  'worker_status',
  'dependency_added',
  'dependency_removed',
  'project_changed',
  'worker_type_changed',
] as const;
export type LiveUpdateType = (typeof LIVE_UPDATE_TYPES)[number];

export interface LiveUpdate {
  /** `<transaction id>.<global position>` of the event: resume after it with Last-Event-ID. */
  id: string;
  type: LiveUpdateType;
  at: string;
  [field: string]: unknown;
}

export const checkpointId = (c: Checkpoint): string => `${c.transactionId}.${c.globalPosition}`;

/** A Last-Event-ID back to a checkpoint; undefined when it is not one of ours. */
export function parseCheckpointId(id: string): Checkpoint | undefined {
  const match = /^(\d{1,20})\.(\d{1,19})$/.exec(id);
  if (!match) return undefined;
  const [transactionId, globalPosition] = [BigInt(match[1]!), BigInt(match[2]!)];
  return transactionId < 2n ** 64n && globalPosition < 2n ** 63n ? { transactionId, globalPosition } : undefined;
}

const after = (stream: string, prefix: string) => stream.slice(prefix.length);

/** The public update for a stored event, or undefined for events clients need not see (comments, bookkeeping). */
export function toLiveUpdate(stored: StoredEvent): LiveUpdate | undefined {
  const event = asWorkflowEvent(stored);
  const base = { id: checkpointId(stored), at: stored.createdAt.toISOString() };
  const ticketId = stored.stream.startsWith('ticket-') ? after(stored.stream, 'ticket-') : undefined;
  switch (event.type) {
    case 'TicketCreated':
      return { ...base, type: 'ticket_created', at: event.data.at, ticket_id: event.data.ticketId, project_id: event.data.projectId, title: event.data.title, execution_plan: event.data.executionPlan };
    case 'TicketStageCompleted':
      return { ...base, type: 'stage_completed', at: event.data.at, ticket_id: ticketId, stage: event.data.stage, stage_number: event.data.stageNumber, worker_id: event.data.workerId };
    case 'TicketClosed':
      return { ...base, type: 'ticket_closed', at: event.data.at, ticket_id: ticketId, status: event.data.status };
    case 'TicketQueued':
      return { ...base, type: 'task_queued', at: event.data.at, ticket_id: ticketId, task_id: event.data.taskId, worker_type: event.data.workerType };
    case 'TicketTaskTaken':
      return { ...base, type: 'task_taken', at: event.data.at, ticket_id: ticketId, task_id: event.data.taskId, worker_type: event.data.workerType, worker_id: event.data.workerId };
    case 'TicketTaskReleased':
      return {
        ...base,
        type: 'task_released',
        at: event.data.at,
        ticket_id: ticketId,
        task_id: event.data.taskId,
        worker_type: event.data.workerType,
        worker_id: event.data.workerId,
        cause: event.data.cause,
        reason: event.data.reason,
      };
    case 'WorkerRegistered':
      return { ...base, type: 'worker_status', at: event.data.at, worker_id: event.data.workerId, worker_type: event.data.workerType, status: event.data.status };
    case 'WorkerStatusChanged':
      return { ...base, type: 'worker_status', at: event.data.at, worker_id: after(stored.stream, 'worker-'), status: event.data.to, previous: event.data.from, reason: event.data.reason };
    case 'TicketDependencyAdded':
    case 'TicketDependencyRemoved':
      return { ...base, type: event.type === 'TicketDependencyAdded' ? 'dependency_added' : 'dependency_removed', at: event.data.at, ticket_id: event.data.ticketId, depends_on: event.data.dependsOn };
    case 'ProjectRegistered':
      return { ...base, type: 'project_changed', at: event.data.at, project_id: event.data.projectId, change: 'registered', key: event.data.key };
    case 'ProjectUpdated':
      return { ...base, type: 'project_changed', at: event.data.at, project_id: after(stored.stream, 'project-'), change: 'updated', name: event.data.name, directory: event.data.directory };
    case 'ProjectKeyChanged':
      return { ...base, type: 'project_changed', at: event.data.at, project_id: after(stored.stream, 'project-'), change: 'key_changed', key: event.data.to, previous_key: event.data.from };
    case 'ProjectDeleted':
      return { ...base, type: 'project_changed', at: event.data.at, project_id: after(stored.stream, 'project-'), change: 'deleted' };
    case 'WorkerTypeCreated':
    case 'WorkerTypeUpdated':
    case 'WorkerTypeDeleted':
      return {
        ...base,
        type: 'worker_type_changed',
        at: event.data.at,
        worker_type: after(stored.stream, 'workertype-'),
        change: event.type === 'WorkerTypeCreated' ? 'created' : event.type === 'WorkerTypeUpdated' ? 'updated' : 'deleted',
      };
    default:
      return undefined;
  }
}

export type LiveListener = (update: LiveUpdate) => void;

export interface LiveFeed {
  /** Calls `listener` with every update from now on; returns the unsubscribe function. */
  subscribe(listener: LiveListener): () => void;
  /** Updates after `from` up to now, in order (for a client resuming with Last-Event-ID). */
  replay(from: Checkpoint, onUpdate: (update: LiveUpdate) => void): Promise<void>;
  stop(): Promise<void>;
}

/** Follows the store's log from its current head and hands each update to every listener. */
export async function startLiveFeed(store: EventStore, { onError }: { onError?: (error: unknown) => void } = {}): Promise<LiveFeed> {
  const listeners = new Set<LiveListener>();
  const head = await store.headCheckpoint({ categories: WORKFLOW_CATEGORIES });
  const subscription: Subscription = store.subscribe({
    from: head ?? { transactionId: 0n, globalPosition: 0n },
    categories: WORKFLOW_CATEGORIES,
    minReadIntervalMs: 10,
    handler: (event) => {
      const update = toLiveUpdate(event);
      if (!update) return;
      for (const listener of listeners) {
        try {
          listener(update);
        } catch (error) {
          // One broken client must not stop the feed for the others.
          onError?.(error);
        }
      }
    },
  });
  subscription.done.catch((error: unknown) => onError?.(error));
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async replay(from, onUpdate) {
      let position = from;
      for (;;) {
        const batch = await store.readAll(position, 500, { categories: WORKFLOW_CATEGORIES });
        for (const event of batch.events) {
          const update = toLiveUpdate(event);
          if (update) onUpdate(update);
        }
        if (batch.events.length === 0 || (batch.checkpoint.transactionId === position.transactionId && batch.checkpoint.globalPosition === position.globalPosition)) return;
        position = batch.checkpoint;
      }
    },
    async stop() {
      listeners.clear();
      await subscription.stop();
    },
  };
}
