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
      await db.query(`update ${s}.tasks set status = 'taken', worker_id = $2, taken_at = $3, ticket_version = $4 where task_id = $1 and ticket_version < $4`, [
        event.data.taskId,
        event.data.workerId,
        event.data.at,
        v,
      ]);
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
}

/** Tasks of a worker type's queue, oldest first. */
export async function queryQueue(db: Db, s: string, workerType: string, statuses: readonly TaskRow['status'][], limit: number): Promise<TaskRow[]> {
  const { rows } = await db.query<TaskRow>(
    `select q.task_id, q.ticket_id, q.worker_type, q.status, q.worker_id, q.queued_at, q.taken_at, t.title
       from ${s}.tasks q left join ${s}.tickets t on t.ticket_id = q.ticket_id
      where q.worker_type = $1 and q.status = any($2)
      order by q.transaction_id, q.global_position
      limit $3`,
    [workerType, statuses, limit],
  );
  return rows;
}
