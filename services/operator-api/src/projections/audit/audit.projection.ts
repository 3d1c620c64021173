/**
 * `operator.audit_log`: the audit trail, from the events (see audit-entries.ts) and from
 * the API itself for operator actions that leave no event (dead-letter redrives and
 * discards). Entries are keyed by event id, so a replay adds nothing; `seq` orders the
 * trail for keyset pagination.
 */
import type pg from 'pg';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';
import { auditEntryOf } from './audit-entries';

const SETUP = `
  create table if not exists operator.audit_log (
    id text primary key,
    seq bigserial not null,
    occurred_at timestamptz not null,
    action text not null,
    actor_id text not null,
    actor_role text not null,
    source text not null,
    subject text not null,
    lead_id text,
    niche_id text,
    provider_id text,
    details jsonb not null
  );
  create unique index if not exists audit_by_seq on operator.audit_log (seq desc);
  create index if not exists audit_by_action on operator.audit_log (action, seq desc);
  create index if not exists audit_by_actor on operator.audit_log (actor_id, seq desc);
  create index if not exists audit_by_lead on operator.audit_log (lead_id, seq desc) where lead_id is not null;
  create index if not exists audit_by_subject on operator.audit_log (subject, seq desc);
`;

type Db = Pick<pg.ClientBase, 'query'>;

/**
 * The audit entries of these events (those that are entries), in one insert, in log order
 * (seq follows the order of the rows given); an entry already written (same event id) stays.
 */
async function insertEntries(db: Db, events: readonly StoredEvent[]): Promise<void> {
  const rows = events.flatMap((event) => {
    const e = auditEntryOf(event);
    return e ? [{ event, e }] : [];
  });
  if (rows.length === 0) return;
  // One JSON document (one parameter; the entries' details are JSON already, and as jsonb[]
  // elements each was escaped again), its rows inserted in the order given.
  const entries = rows.map(({ event, e }) => ({
    id: event.id,
    occurred_at: event.createdAt,
    action: e.action,
    actor_id: e.actor.actor_id,
    actor_role: e.actor.actor_role,
    subject: e.subject,
    lead_id: e.lead_id,
    niche_id: e.niche_id,
    provider_id: e.provider_id,
    details: e.details,
  }));
  await db.query(
    `insert into operator.audit_log (id, occurred_at, action, actor_id, actor_role, source, subject, lead_id, niche_id, provider_id, details)
     select id, occurred_at, action, actor_id, actor_role, 'event', subject, lead_id, niche_id, provider_id, details
       from rows from (jsonb_to_recordset($1::jsonb)
              as (id text, occurred_at timestamptz, action text, actor_id text, actor_role text, subject text, lead_id text, niche_id text, provider_id text, details jsonb))
            with ordinality as t(id, occurred_at, action, actor_id, actor_role, subject, lead_id, niche_id, provider_id, details, ord)
      order by ord
     on conflict (id) do nothing`,
    [JSON.stringify(entries)],
  );
}

/**
 * Writes the audit entry of an event the API just appended, at once (read your own write);
 * the projection writes the same row (same id) again as a no-op.
 */
export function recordEventAction(db: Db, event: StoredEvent): Promise<void> {
  return insertEntries(db, [event]);
}

export const auditProjection: ProjectionDefinition = {
  name: 'operator.audit',
  categories: ['lead', 'niche', 'provider', 'wallet', 'subscription', 'deadletter', 'projection'],
  setup: async (client) => void (await client.query(SETUP)),
  apply: (event: StoredEvent, client: pg.PoolClient) => insertEntries(client, [event]),
  // A page's entries in one insert.
  applyBatch: (events: readonly StoredEvent[], client: pg.PoolClient) => insertEntries(client, events),
};
