/** Reads of `operator.wallets` and `operator.ledger`. */
import type pg from 'pg';
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../cursor';
import type { LedgerKind } from './wallets.projection';

type Db = Pick<pg.Pool, 'query'>;

export interface WalletRow {
  provider_id: string;
  balance_cents: number;
  topped_up_cents: number;
  charged_cents: number;
  refunded_cents: number;
  updated_at: Date;
  version: number;
}

export interface LedgerRow {
  event_id: string;
  provider_id: string;
  version: number;
  kind: LedgerKind;
  amount_cents: number;
  balance_after_cents: number;
  lead_id: string | null;
  note: string | null;
  actor_id: string | null;
  occurred_at: Date;
}

// bigint columns come back as strings; amounts in cents stay far below 2^53.
const num = (v: unknown): number => Number(v);

export async function findWallet(db: Db, providerId: string): Promise<WalletRow | undefined> {
  const { rows } = await db.query<WalletRow>(`select * from operator.wallets where provider_id = $1`, [providerId]);
  const row = rows[0];
  return row && { ...row, balance_cents: num(row.balance_cents), topped_up_cents: num(row.topped_up_cents), charged_cents: num(row.charged_cents), refunded_cents: num(row.refunded_cents) };
}

const LedgerCursor = z.object({ v: z.number().int() }).strict();

/** Newest first, by the wallet stream's version. */
export async function listLedger(db: Db, providerId: string, filter: { kind?: LedgerKind | undefined; cursor?: string | undefined; limit: number }): Promise<{ items: LedgerRow[]; next_cursor: string | null }> {
  const after = filter.cursor ? decodeCursor(LedgerCursor, filter.cursor) : undefined;
  const { rows } = await db.query<LedgerRow>(
    `select * from operator.ledger
      where provider_id = $1 and ($2::text is null or kind = $2) and ($3::int is null or version < $3)
      order by version desc limit $4`,
    [providerId, filter.kind ?? null, after?.v ?? null, filter.limit + 1],
  );
  const more = rows.length > filter.limit;
  const items = (more ? rows.slice(0, filter.limit) : rows).map((r) => ({ ...r, amount_cents: num(r.amount_cents), balance_after_cents: num(r.balance_after_cents) }));
  const last = items[items.length - 1];
  return { items, next_cursor: more && last ? encodeCursor({ v: last.version }) : null };
}
