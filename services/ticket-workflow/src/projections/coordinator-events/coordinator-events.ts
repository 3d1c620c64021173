import type { Apply, Db } from '../shared';
import { asWorkflowEvent } from '../shared';

/**
 * Read model `coordinator_events`: what the coordinator must react to — stage
 * completions and stopped workers — in global order. An event's id is the global
 * position of the stored event it comes from, so it is stable across rebuilds.
 * "Processed" is itself an event on the source stream, so it survives rebuilds too.
 */
export const applyToCoordinatorEvents: Apply = async (stored, db, s) => {
  const event = asWorkflowEvent(stored);
  const insert = (values: { type: string; ticketId?: string; workerId?: string; workerType?: string; stage?: string; stageNumber?: number; reason?: string; at: string }) =>
    db.query(
      `insert into ${s}.coordinator_events (event_id, event_type, ticket_id, worker_id, worker_type, stage, stage_number, reason, created_at, transaction_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict (event_id) do nothing`,
      [
        stored.globalPosition.toString(),
        values.type,
        values.ticketId ?? null,
        values.workerId ?? null,
        values.workerType ?? null,
        values.stage ?? null,
        values.stageNumber ?? null,
        values.reason ?? null,
        values.at,
        stored.transactionId.toString(),
      ],
    );
  switch (event.type) {
    case 'TicketStageCompleted':
      await insert({
        type: 'ticket_stage_completed',
        ticketId: stored.stream.slice('ticket-'.length),
        workerId: event.data.workerId,
        workerType: event.data.workerType,
        stage: event.data.stage,
        stageNumber: event.data.stageNumber,
        at: event.data.at,
      });
      return;
    case 'WorkerStopped':
      await insert({ type: 'worker_stopped', workerId: stored.stream.slice('worker-'.length), reason: event.data.reason, at: event.data.at });
      return;
    case 'TicketStageCompletionProcessed':
      await db.query(
        `update ${s}.coordinator_events set processed = true, processed_at = $3
          where event_type = 'ticket_stage_completed' and ticket_id = $1 and stage_number = $2 and not processed`,
        [stored.stream.slice('ticket-'.length), event.data.stageNumber, event.data.at],
      );
      return;
    case 'WorkerStopProcessed':
      await db.query(`update ${s}.coordinator_events set processed = true, processed_at = $2 where event_type = 'worker_stopped' and worker_id = $1 and not processed`, [
        stored.stream.slice('worker-'.length),
        event.data.at,
      ]);
      return;
    default:
      return;
  }
};

export interface CoordinatorEventRow {
  event_id: string;
  event_type: 'ticket_stage_completed' | 'worker_stopped';
  ticket_id: string | null;
  worker_id: string | null;
  worker_type: string | null;
  stage: string | null;
  stage_number: number | null;
  reason: string | null;
  created_at: Date;
  processed: boolean;
}

/** Coordinator events in the order they happened; `processed` undefined means all. */
export async function queryCoordinatorEvents(db: Db, s: string, processed: boolean | undefined, limit: number): Promise<CoordinatorEventRow[]> {
  const { rows } = await db.query<CoordinatorEventRow>(
    `select event_id::text, event_type, ticket_id, worker_id, worker_type, stage, stage_number, reason, created_at, processed
       from ${s}.coordinator_events
      where ($1::boolean is null or processed = $1)
      order by transaction_id, event_id
      limit $2`,
    [processed ?? null, limit],
  );
  return rows;
}

export async function findCoordinatorEvents(db: Db, s: string, ids: readonly string[]): Promise<CoordinatorEventRow[]> {
  const { rows } = await db.query<CoordinatorEventRow>(
    `select event_id::text, event_type, ticket_id, worker_id, worker_type, stage, stage_number, reason, created_at, processed
       from ${s}.coordinator_events where event_id = any($1::bigint[]) order by transaction_id, event_id`,
    [ids],
  );
  return rows;
}
