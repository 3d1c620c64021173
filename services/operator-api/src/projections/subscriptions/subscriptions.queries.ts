/** Reads of `operator.subscriptions`. */
import type pg from 'pg';
import { z } from 'zod';
import type { SubscriptionStatus } from '@fairlead/contracts';
import { decodeCursor, encodeCursor } from '../cursor';

type Db = Pick<pg.Pool, 'query'>;

export interface SubscriptionRow {
  subscription_id: string;
  provider_id: string;
  niche_id: string;
  level_id: string;
  postal_codes: string[];
  states: string[];
  daily_cap: number | null;
  monthly_cap: number | null;
  status: SubscriptionStatus;
  status_reason: string | null;
  created_at: Date;
  updated_at: Date;
  version: number;
}

export async function findSubscription(db: Db, subscriptionId: string): Promise<SubscriptionRow | undefined> {
  const { rows } = await db.query<SubscriptionRow>(`select * from operator.subscriptions where subscription_id = $1`, [subscriptionId]);
  return rows[0];
}

export interface SubscriptionFilter {
  provider_id?: string | undefined;
  niche_id?: string | undefined;
  level_id?: string | undefined;
  status?: SubscriptionStatus | undefined;
  cursor?: string | undefined;
  limit: number;
}

const SubscriptionCursor = z.object({ id: z.string() }).strict();

export async function listSubscriptions(db: Db, filter: SubscriptionFilter): Promise<{ items: SubscriptionRow[]; next_cursor: string | null }> {
  const after = filter.cursor ? decodeCursor(SubscriptionCursor, filter.cursor) : undefined;
  const { rows } = await db.query<SubscriptionRow>(
    `select * from operator.subscriptions
      where ($1::text is null or provider_id = $1) and ($2::text is null or niche_id = $2)
        and ($3::text is null or level_id = $3) and ($4::text is null or status = $4)
        and ($5::text is null or subscription_id > $5)
      order by subscription_id limit $6`,
    [filter.provider_id ?? null, filter.niche_id ?? null, filter.level_id ?? null, filter.status ?? null, after?.id ?? null, filter.limit + 1],
  );
  const more = rows.length > filter.limit;
  const items = more ? rows.slice(0, filter.limit) : rows;
  const last = items[items.length - 1];
  return { items, next_cursor: more && last ? encodeCursor({ id: last.subscription_id }) : null };
}
