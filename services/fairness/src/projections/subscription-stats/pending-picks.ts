/**
 * `fairness.pending_picks`: picks recorded (ProvidersSelected) that billing has not answered
 * yet, with the served time each was given. Like subscription_stats it is no projector: the
 * distribution writes it in the transaction that appends the events (a pick in, its
 * LeadAssigned / ProviderSkipped / PicksWithdrawn out), so it holds exactly the log's
 * waiting picks. The served view counts them as served — a lead decided while another
 * lead's picks wait for billing (a crash, a stop, a retry in between) ranks them where
 * they were decided, not where their last assignment left them — and a resumed pick is
 * assigned at its own served time.
 */
import type pg from 'pg';
import { boundParameters, type BindParameter } from '@fairlead/event-store';

export interface PendingPickRow {
  lead_id: string;
  provider_id: string;
  level_id: string;
  subscription_id: string;
  served_at: Date;
}

export type PickRef = Pick<PendingPickRow, 'lead_id' | 'provider_id' | 'level_id'>;

/** The statement of recordPendingPicks, on parameters bound by `param` (also run inside the flush's one statement). */
export function recordPendingPicksSql(rows: readonly PendingPickRow[], param: BindParameter): string {
  return `insert into fairness.pending_picks (lead_id, provider_id, level_id, subscription_id, served_at)
     select * from unnest(${param(rows.map((r) => r.lead_id))}::text[], ${param(rows.map((r) => r.provider_id))}::text[], ${param(rows.map((r) => r.level_id))}::text[],
                          ${param(rows.map((r) => r.subscription_id))}::text[], ${param(rows.map((r) => r.served_at))}::timestamptz[])
     on conflict (lead_id, provider_id, level_id) do nothing`;
}

/** The statement of settlePendingPicks, on parameters bound by `param`. */
export function settlePendingPicksSql(refs: readonly PickRef[], param: BindParameter): string {
  return `delete from fairness.pending_picks p
      using unnest(${param(refs.map((r) => r.lead_id))}::text[], ${param(refs.map((r) => r.provider_id))}::text[], ${param(refs.map((r) => r.level_id))}::text[]) as r(lead_id, provider_id, level_id)
      where p.lead_id = r.lead_id and p.provider_id = r.provider_id and p.level_id = r.level_id`;
}

/** Records picks just appended (a re-append of the same pick changes nothing). */
export async function recordPendingPicks(client: Pick<pg.ClientBase, 'query'>, rows: readonly PendingPickRow[]): Promise<void> {
  if (rows.length === 0) return;
  const { param, values } = boundParameters();
  await client.query(recordPendingPicksSql(rows, param), values);
}

/** Forgets picks billing answered (or that were taken back) in the events just appended. */
export async function settlePendingPicks(client: Pick<pg.ClientBase, 'query'>, refs: readonly PickRef[]): Promise<void> {
  if (refs.length === 0) return;
  const { param, values } = boundParameters();
  await client.query(settlePendingPicksSql(refs, param), values);
}

/** The served times of these leads' waiting picks (to resume them), by lead. */
export async function pendingPicksOf(db: Pick<pg.ClientBase, 'query'>, leadIds: readonly string[]): Promise<Map<string, PendingPickRow[]>> {
  const byLead = new Map<string, PendingPickRow[]>();
  if (leadIds.length === 0) return byLead;
  const { rows } = await db.query<PendingPickRow>(`select lead_id, provider_id, level_id, subscription_id, served_at from fairness.pending_picks where lead_id = any($1::text[])`, [leadIds]);
  for (const r of rows) byLead.set(r.lead_id, [...(byLead.get(r.lead_id) ?? []), r]);
  return byLead;
}
