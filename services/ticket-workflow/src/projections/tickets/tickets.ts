import { blockedBySql } from '../dependencies/dependencies';
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
  /** Its dependencies still open (empty: ready). */
  blocked_by: string[];
}

export interface TicketFilter {
  projectId?: string;
  state?: 'open' | 'closed' | 'all';
  limit: number;
}

const columns = (s: string) => `t.ticket_id, t.project_id, t.number, t.title, t.priority, t.execution_plan, t.completed_stages, t.last_completed_stage, t.state,
  t.closed_as, t.queued_for, t.source_distribution_id, t.created_at, t.updated_at, t.closed_at, ${blockedBySql(s, 't.ticket_id')} as blocked_by`;

export async function queryTickets(db: Db, s: string, filter: TicketFilter): Promise<TicketRow[]> {
  const { rows } = await db.query<TicketRow>(
    `select ${columns(s)} from ${s}.tickets t
      where ($1::text is null or t.project_id = $1) and ($2::text = 'all' or t.state = $2)
      order by t.created_at desc, t.ticket_id desc
      limit $3`,
    [filter.projectId ?? null, filter.state ?? 'all', filter.limit],
  );
  return rows;
}

/** Open tickets whose next stage is `stage`; `Planned`: open and not started; `Completed` / `Stopped`: closed so. */
export async function queryTicketsByStage(db: Db, s: string, filter: { stage: string; projectId?: string; limit: number }): Promise<TicketRow[]> {
  const { rows } = await db.query<TicketRow>(
    `select ${columns(s)} from ${s}.tickets t
      where ($2::text is null or t.project_id = $2)
        and case when $1 in ('Completed', 'Stopped') then t.state = 'closed' and t.closed_as = $1
                 when $1 = 'Planned' then t.state = 'open' and t.completed_stages = 0
                 else t.state = 'open' and t.execution_plan ->> t.completed_stages = $1 end
      order by t.created_at, t.ticket_id
      limit $3`,
    [filter.stage, filter.projectId ?? null, filter.limit],
  );
  return rows;
}

export async function queryOpenTicketsOfProject(db: Db, s: string, projectId: string): Promise<string[]> {
  const { rows } = await db.query<{ ticket_id: string }>(`select ticket_id from ${s}.tickets where project_id = $1 and state = 'open' order by ticket_id`, [projectId]);
  return rows.map((r) => r.ticket_id);
}

/** Open tickets with a stage of `workerType` still to do. */
export async function queryOpenTicketsNeedingType(db: Db, s: string, workerType: string): Promise<string[]> {
  const { rows } = await db.query<{ ticket_id: string }>(
    `select ticket_id from ${s}.tickets t
      where state = 'open' and exists (select 1 from jsonb_array_elements_text(t.execution_plan) with ordinality as p(stage, n) where p.stage = $1 and p.n > t.completed_stages)
      order by ticket_id limit 100`,
    [workerType],
  );
  return rows.map((r) => r.ticket_id);
}

/** `open` or `closed` per ticket id (ids the read model has not seen are absent). */
export async function queryTicketStates(db: Db, s: string, ticketIds: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await db.query<{ ticket_id: string; state: string }>(`select ticket_id, state from ${s}.tickets where ticket_id = any($1)`, [ticketIds]);
  return new Map(rows.map((r) => [r.ticket_id, r.state]));
}
