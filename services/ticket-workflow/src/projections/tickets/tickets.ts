import type { Apply, Db } from '../shared';
import { asWorkflowEvent, claimVersion } from '../shared';

/** Read model `tickets`: one row per ticket, for listing by project and state. */

export const applyToTickets: Apply = async (stored, db, s) => {
  const event = asWorkflowEvent(stored);
  const ticketId = stored.stream.slice('ticket-'.length);
  if (event.type === 'TicketCreated') {
    const d = event.data;
    await db.query(
      `insert into ${s}.tickets (ticket_id, project_id, number, title, priority, execution_plan, last_completed_stage, state,
         source_distribution_id, created_at, updated_at, version)
       values ($1, $2, $3, $4, $5, $6, 'Planned', 'open', $7, $8, $8, $9) on conflict (ticket_id) do nothing`,
      [d.ticketId, d.projectId, d.number, d.title, d.priority, JSON.stringify(d.executionPlan), d.source?.distributionId ?? null, d.at, stored.streamVersion],
    );
    return;
  }
  if (!stored.stream.startsWith('ticket-')) return;
  if (!(await claimVersion(db, s, 'tickets', 'ticket_id', ticketId, stored.streamVersion))) return;
  switch (event.type) {
    case 'TicketCommentAdded':
      await db.query(`update ${s}.tickets set updated_at = $2 where ticket_id = $1`, [ticketId, event.data.at]);
      return;
    case 'TicketStageCompleted':
      await db.query(`update ${s}.tickets set completed_stages = $2, last_completed_stage = $3, queued_for = null, updated_at = $4 where ticket_id = $1`, [
        ticketId,
        event.data.stageNumber,
        event.data.stage,
        event.data.at,
      ]);
      return;
    case 'TicketQueued':
      await db.query(`update ${s}.tickets set queued_for = $2, updated_at = $3 where ticket_id = $1`, [ticketId, event.data.workerType, event.data.at]);
      return;
    case 'TicketClosed':
      await db.query(`update ${s}.tickets set state = 'closed', closed_as = $2, last_completed_stage = $2, queued_for = null, closed_at = $3, updated_at = $3 where ticket_id = $1`, [
        ticketId,
        event.data.status,
        event.data.at,
      ]);
      return;
    default:
      return;
  }
};

export interface TicketRow {
  ticket_id: string;
  project_id: string;
  number: number;
  title: string;
  priority: string;
  execution_plan: string[];
  completed_stages: number;
  last_completed_stage: string;
  state: 'open' | 'closed';
  closed_as: string | null;
  queued_for: string | null;
  source_distribution_id: string | null;
  created_at: Date;
  updated_at: Date;
  closed_at: Date | null;
}

export interface TicketFilter {
  projectId?: string;
  state?: 'open' | 'closed' | 'all';
  limit: number;
}

export async function queryTickets(db: Db, s: string, filter: TicketFilter): Promise<TicketRow[]> {
  const { rows } = await db.query<TicketRow>(
    `select ticket_id, project_id, number, title, priority, execution_plan, completed_stages, last_completed_stage, state, closed_as,
            queued_for, source_distribution_id, created_at, updated_at, closed_at
       from ${s}.tickets
      where ($1::text is null or project_id = $1) and ($2::text = 'all' or state = $2)
      order by created_at desc, ticket_id desc
      limit $3`,
    [filter.projectId ?? null, filter.state ?? 'all', filter.limit],
  );
  return rows;
}
