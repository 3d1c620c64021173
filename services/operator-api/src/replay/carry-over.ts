/**
 * Rows a replay cannot rebuild because no event carries them: the audit entries the API
 * records itself (dead-letter redrives and discards). They are copied from the live table
 * into the rebuilt one; they get new `seq` numbers after the replayed entries.
 */
import type pg from 'pg';

const AUDIT_COLUMNS = 'id, occurred_at, action, actor_id, actor_role, source, subject, lead_id, niche_id, provider_id, details';

export async function carryOver(
  client: Pick<pg.ClientBase, 'query'>,
  from: string,
  into: string,
  projectionNames: readonly string[],
  until?: Date,
): Promise<number> {
  if (!projectionNames.includes('operator.audit')) return 0;
  const { rows } = await client.query<{ exists: boolean }>(`select to_regclass($1) is not null as exists`, [`${from}.audit_log`]);
  if (!rows[0]?.exists) return 0;
  const result = await client.query(
    `insert into ${into}.audit_log (${AUDIT_COLUMNS})
     select ${AUDIT_COLUMNS} from ${from}.audit_log where source = 'api' and ($1::timestamptz is null or occurred_at <= $1)
     order by seq on conflict (id) do nothing`,
    [until ?? null],
  );
  return result.rowCount ?? 0;
}
