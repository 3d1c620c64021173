/** Reads of `operator.providers` (with the wallet balance from `operator.wallets`). */
import type pg from 'pg';
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../cursor';

type Db = Pick<pg.Pool, 'query'>;

export interface ProviderRow {
  provider_id: string;
  name: string;
  email: string;
  registered_at: Date;
  updated_at: Date;
  version: number;
  balance_cents: number | null;
}

// The balance is a bigint column (a string from pg); cents stay far below 2^53.
const withNumbers = (row: ProviderRow): ProviderRow => ({ ...row, balance_cents: row.balance_cents === null ? null : Number(row.balance_cents) });

const SELECT = `select p.*, w.balance_cents from operator.providers p left join operator.wallets w on w.provider_id = p.provider_id`;

export async function findProvider(db: Db, providerId: string): Promise<ProviderRow | undefined> {
  const { rows } = await db.query<ProviderRow>(`${SELECT} where p.provider_id = $1`, [providerId]);
  return rows[0] && withNumbers(rows[0]);
}

const ProviderCursor = z.object({ n: z.string(), id: z.string() }).strict();

/** By name; `q` matches a part of the name or email, case-insensitively. */
export async function listProviders(db: Db, filter: { q?: string | undefined; cursor?: string | undefined; limit: number }): Promise<{ items: ProviderRow[]; next_cursor: string | null }> {
  const after = filter.cursor ? decodeCursor(ProviderCursor, filter.cursor) : undefined;
  const pattern = filter.q ? `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const { rows } = await db.query<ProviderRow>(
    `${SELECT}
      where ($1::text is null or p.name ilike $1 or p.email ilike $1)
        and ($2::text is null or (p.name, p.provider_id) > ($2::text, $3::text))
      order by p.name, p.provider_id limit $4`,
    [pattern, after?.n ?? null, after?.id ?? null, filter.limit + 1],
  );
  const more = rows.length > filter.limit;
  const items = (more ? rows.slice(0, filter.limit) : rows).map(withNumbers);
  const last = items[items.length - 1];
  return { items, next_cursor: more && last ? encodeCursor({ n: last.name, id: last.provider_id }) : null };
}
