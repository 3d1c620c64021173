import type { Apply, Db } from '../shared';
import { asWorkflowEvent } from '../shared';

/**
 * Read model `ticket_dependencies`: the edges of the dependency graph (one stream), for
 * readiness in lists and queues. Each row keeps the graph version that last changed it.
 */
export const applyToDependencies: Apply = async (stored, db, s) => {
  if (!stored.stream.startsWith('ticketgraph-')) return;
  const event = asWorkflowEvent(stored);
  if (event.type !== 'TicketDependencyAdded' && event.type !== 'TicketDependencyRemoved') return;
  await db.query(
    `insert into ${s}.ticket_dependencies (ticket_id, depends_on, active, changed_at, version) values ($1, $2, $3, $4, $5)
     on conflict (ticket_id, depends_on) do update set active = excluded.active, changed_at = excluded.changed_at, version = excluded.version
     where ${s}.ticket_dependencies.version < excluded.version`,
    [event.data.ticketId, event.data.dependsOn, event.type === 'TicketDependencyAdded', event.data.at, stored.streamVersion],
  );
};

export interface DependencyRow {
  ticket_id: string;
  depends_on: string;
  /** The dependency's state (`open`, `closed`), null when the read model has not seen it. */
  state: string | null;
}

/** The active dependencies of the given tickets, with each dependency's state. */
export async function queryDependenciesOf(db: Db, s: string, ticketIds: readonly string[]): Promise<DependencyRow[]> {
  const { rows } = await db.query<DependencyRow>(
    `select d.ticket_id, d.depends_on, t.state from ${s}.ticket_dependencies d left join ${s}.tickets t on t.ticket_id = d.depends_on
      where d.ticket_id = any($1) and d.active order by d.ticket_id, d.depends_on`,
    [ticketIds],
  );
  return rows;
}

/** SQL for a ticket's open dependencies as a JSON array; `ticketIdColumn` names the ticket id of the outer query. */
export const blockedBySql = (s: string, ticketIdColumn: string): string =>
  `coalesce((select jsonb_agg(d.depends_on order by d.depends_on) from ${s}.ticket_dependencies d left join ${s}.tickets dt on dt.ticket_id = d.depends_on
     where d.ticket_id = ${ticketIdColumn} and d.active and coalesce(dt.state, 'open') <> 'closed'), '[]'::jsonb)`;
