/** The audit trail, newest first, filtered and keyset-paginated. */
import type pg from 'pg';
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../cursor';

type Db = Pick<pg.Pool, 'query'>;

export interface AuditRow {
  id: string;
  seq: string;
  occurred_at: Date;
  action: string;
  actor_id: string;
  actor_role: string;
  source: 'event' | 'api';
  subject: string;
  lead_id: string | null;
  niche_id: string | null;
  provider_id: string | null;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  /** Exact action, or a prefix ending in `.` / `.*` (`distribution.*`). */
  action?: string | undefined;
  actor_id?: string | undefined;
  lead_id?: string | undefined;
  niche_id?: string | undefined;
  provider_id?: string | undefined;
  subject?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  cursor?: string | undefined;
  limit: number;
}

const AuditCursor = z.object({ s: z.string().regex(/^\d+$/) }).strict();

export async function listAudit(db: Db, filter: AuditFilter): Promise<{ items: AuditRow[]; next_cursor: string | null }> {
  const after = filter.cursor ? decodeCursor(AuditCursor, filter.cursor) : undefined;
  const action = filter.action?.replace(/\*$/, '');
  const prefix = action?.endsWith('.') ? action : null;
  const { rows } = await db.query<AuditRow>(
    `select id, seq::text, occurred_at, action, actor_id, actor_role, source, subject, lead_id, niche_id, provider_id, details
       from operator.audit_log
      where ($1::text is null or action = $1) and ($2::text is null or starts_with(action, $2))
        and ($3::text is null or actor_id = $3) and ($4::text is null or lead_id = $4)
        and ($5::text is null or niche_id = $5) and ($6::text is null or provider_id = $6)
        and ($7::text is null or subject = $7)
        and ($8::timestamptz is null or occurred_at >= $8) and ($9::timestamptz is null or occurred_at < $9)
        and ($10::bigint is null or seq < $10)
      order by operator.audit_log.seq desc limit $11`,
    [
      prefix ? null : (action ?? null),
      prefix,
      filter.actor_id ?? null,
      filter.lead_id ?? null,
      filter.niche_id ?? null,
      filter.provider_id ?? null,
      filter.subject ?? null,
      filter.from ?? null,
      filter.to ?? null,
      after?.s ?? null,
      filter.limit + 1,
    ],
  );
  const more = rows.length > filter.limit;
  const items = more ? rows.slice(0, filter.limit) : rows;
  const last = items[items.length - 1];
  return { items, next_cursor: more && last ? encodeCursor({ s: last.seq }) : null };
}
