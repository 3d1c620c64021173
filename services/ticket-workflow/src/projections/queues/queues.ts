import { blockedBySql } from '../dependencies/dependencies';
import type { Apply, Db } from '../shared';
import { asWorkflowEvent } from '../shared';

/**
 * Read model `tasks`: the queue of each worker type, in the global order in which tasks
 * were queued. It only suggests candidates; who gets a task is decided on the ticket's
 * stream, so a stale row can never hand one task to two workers.
 */
export const applyToQueues: Apply = async (stored, db, s) => {
  if (!stored.stream.startsWith('ticket-')) return;
  const event = asWorkflowEvent(stored);
  const ticketId = stored.stream.slice('ticket-'.length);
  const v = stored.streamVersion;
  switch (event.type) {
    case 'TicketQueued':
      await db.query(
        `insert into ${s}.tasks (task_id, ticket_id, worker_type, status, queued_at, ticket_version, transaction_id, global_position)
         values ($1, $2, $3, 'queued', $4, $5, $6, $7) on conflict (task_id) do nothing`,
        [event.data.taskId, ticketId, event.data.workerType, event.data.at, v, stored.transactionId.toString(), stored.globalPosition.toString()],
      );
      return;
    case 'TicketTaskTaken':
      await db.query(
        `update ${s}.tasks set status = 'taken', worker_id = $2, taken_at = $3, last_activity_at = $3, ticket_version = $4 where task_id = $1 and ticket_version < $4`,
        [event.data.taskId, event.data.workerId, event.data.at, v],
      );
      return;
    case 'TicketTaskReleased':
      // Back in its queue, in its old place (ordered by when it was first queued).
      await db.query(
        `update ${s}.tasks set status = 'queued', worker_id = null, taken_at = null, last_activity_at = null, ticket_version = $2 where task_id = $1 and ticket_version < $2`,
        [event.data.taskId, v],
      );
      return;
    case 'TicketTaskLeaseRenewed':
      await db.query(`update ${s}.tasks set last_activity_at = $2, ticket_version = $3 where task_id = $1 and ticket_version < $3`, [event.data.taskId, event.data.at, v]);
      return;
    case 'TicketCommentAdded':
      // The holder commenting on its ticket keeps its lease.
      await db.query(
        `update ${s}.tasks set last_activity_at = $3, ticket_version = $4 where ticket_id = $1 and status = 'taken' and worker_id = $2 and ticket_version < $4`,
        [ticketId, event.data.workerId, event.data.at, v],
      );
      return;
    case 'TicketStageCompleted':
    case 'TicketClosed':
      await db.query(
        `update ${s}.tasks set status = $2, done_at = $3, ticket_version = $4
          where ticket_id = $1 and status in ('queued', 'taken') and ticket_version < $4`,
        [ticketId, event.type === 'TicketClosed' ? 'cancelled' : 'done', event.data.at, v],
      );
      return;
    default:
      return;
  }
};

export interface TaskRow {
  task_id: string;
  ticket_id: string;
  worker_type: string;
  status: 'queued' | 'taken' | 'done' | 'cancelled';
  worker_id: string | null;
  queued_at: Date;
  taken_at: Date | null;
  title: string | null;
  /** Open tickets it waits for; a blocked task is not handed out. */
  blocked_by: string[];
}

/** Tasks of a worker type's queue, oldest first; `readyOnly` leaves out tickets waiting for open dependencies. */
export async function queryQueue(db: Db, s: string, workerType: string, statuses: readonly TaskRow['status'][], limit: number, { readyOnly = false } = {}): Promise<TaskRow[]> {
  const { rows } = await db.query<TaskRow>(
    `select * from (
       select q.task_id, q.ticket_id, q.worker_type, q.status, q.worker_id, q.queued_at, q.taken_at, t.title, ${blockedBySql(s, 'q.ticket_id')} as blocked_by,
              q.transaction_id, q.global_position
         from ${s}.tasks q left join ${s}.tickets t on t.ticket_id = q.ticket_id
        where q.worker_type = $1 and q.status = any($2)) x
      where not $4 or jsonb_array_length(x.blocked_by) = 0
      order by x.transaction_id, x.global_position
      limit $3`,
    [workerType, statuses, limit, readyOnly],
  );
  return rows;
}

/** Tasks a worker holds now. */
export async function queryTasksHeldBy(db: Db, s: string, workerId: string): Promise<Array<{ task_id: string; ticket_id: string }>> {
  return (await db.query<{ task_id: string; ticket_id: string }>(`select task_id, ticket_id from ${s}.tasks where status = 'taken' and worker_id = $1 order by queued_at`, [workerId]))
    .rows;
}

/** Taken tasks whose holder stopped, or showed no life since `idleSince`: candidates for release (their stream decides). */
export async function queryExpiredOrOrphanedTasks(
  db: Db,
  s: string,
  idleSince: Date,
  limit = 100,
): Promise<Array<{ task_id: string; ticket_id: string; worker_id: string; holder_stopped: boolean }>> {
  const { rows } = await db.query<{ task_id: string; ticket_id: string; worker_id: string; holder_stopped: boolean }>(
    `select q.task_id, q.ticket_id, q.worker_id, coalesce(w.status in ('finished', 'failed'), false) as holder_stopped
       from ${s}.tasks q left join ${s}.workers w on w.worker_id = q.worker_id
      where q.status = 'taken' and (w.status in ('finished', 'failed') or coalesce(q.last_activity_at, q.taken_at) < $1)
      order by q.taken_at
      limit $2`,
    [idleSince, limit],
  );
  return rows;
}
