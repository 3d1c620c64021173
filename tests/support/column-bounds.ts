/**
 * "What the write side accepts, every read side can hold", checked on the real schemas:
 * every numeric column of every service schema (as information_schema describes it after
 * the services' migrations and read-model setups ran) is classified here — the contract
 * field it holds (its bound read from the zod schema itself), a count bounded by something
 * stated, or bookkeeping — and its type must hold that bound. A new numeric column fails
 * the check until it is classified, so a read model cannot quietly fall behind a contract.
 * Money columns (`*_cents`) must be bigint.
 */
import type pg from 'pg';
import { z } from 'zod';
import {
  billingCommands,
  CompetitionLevelAdded,
  DistributionStarted,
  LeadAssigned,
  ProvidersSelected,
  SubscriptionCreated,
  WalletChargeDeclined,
  WalletCharged,
  WalletToppedUp,
} from '@fairlead/contracts';

const SCHEMAS = ['rotation', 'fairness', 'billing', 'relay', 'operator', 'eventstore'];

const TYPE_MAX: Record<string, bigint> = {
  smallint: 32_767n,
  integer: 2_147_483_647n,
  bigint: 9_223_372_036_854_775_807n,
};

/** The largest value a zod number schema accepts (through nullable/optional/default wrappers). */
export function maxOf(schema: z.ZodType): bigint {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodNullable || s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  if (!(s instanceof z.ZodNumber)) throw new Error('not a number schema');
  const max = s.maxValue;
  if (max === null || !Number.isFinite(max)) throw new Error('the contract sets no upper bound');
  return BigInt(max);
}

/** A stream holds at most this many events: the event store's stream_version is an integer. */
const EVENTS_PER_STREAM = TYPE_MAX.integer!;

type Bound = { contract: z.ZodType; field: string } | { max: bigint; why: string } | { bookkeeping: string };

const contract = (schema: z.ZodObject, field: string): Bound => ({ contract: schema.shape[field] as z.ZodType, field });
const streamVersion: Bound = { max: EVENTS_PER_STREAM, why: 'a stream version (the store numbers a stream’s events with an integer)' };

/** Every numeric column of the service schemas, by `schema.table.column`. */
const COLUMNS: Record<string, Bound> = {
  // billing
  'billing.wallets.balance_cents': contract(WalletToppedUp, 'balance_after_cents'),
  'billing.wallets.version': streamVersion,
  'billing.charges.amount_cents': contract(WalletCharged, 'amount_cents'),
  'billing.charges.balance_cents': contract(WalletChargeDeclined, 'balance_cents'),
  'billing.subscriptions.version': streamVersion,
  'billing.levels.price_per_lead_cents': contract(CompetitionLevelAdded, 'price_per_lead_cents'),
  'billing.levels.version': streamVersion,
  'billing.top_ups.amount_cents': contract(billingCommands.top_up.request, 'amount_cents'),
  // fairness
  'fairness.levels.order_position': contract(CompetitionLevelAdded, 'order_position'),
  'fairness.levels.max_recipients': contract(CompetitionLevelAdded, 'max_recipients'),
  'fairness.levels.price_per_lead_cents': contract(CompetitionLevelAdded, 'price_per_lead_cents'),
  'fairness.levels.position': { bookkeeping: 'a global position of the log (bigint, like the store’s)' },
  'fairness.subscriptions.daily_cap': contract(SubscriptionCreated, 'daily_cap'),
  'fairness.subscriptions.monthly_cap': contract(SubscriptionCreated, 'monthly_cap'),
  'fairness.subscriptions.version': streamVersion,
  // One per assignment of one subscription in a day or month. Not bounded by a contract when
  // the subscription has no cap: 2^31 − 1 in a month is 800 assignments a second to one
  // subscription, all month long — far beyond a lead market (and bench:distribution).
  'fairness.subscription_stats.day_count': { max: 2_147_483_647n, why: 'assignments of one subscription in a day (operational: < 25,000 a second)' },
  'fairness.subscription_stats.month_count': { max: 2_147_483_647n, why: 'assignments of one subscription in a month (operational: < 800 a second)' },
  'fairness.served_view_state.id': { bookkeeping: 'the one row of the table (check id = 1)' },
  // rotation
  'rotation.claims.start_order_position': contract(DistributionStarted, 'start_order_position'),
  // operator read models
  'operator.wallets.balance_cents': contract(WalletToppedUp, 'balance_after_cents'),
  // Running totals: at most one movement per wallet event, each at most the larger of a top-up and a price.
  'operator.wallets.topped_up_cents': { max: EVENTS_PER_STREAM * maxOf(billingCommands.top_up.request.shape.amount_cents), why: 'sum of a wallet’s top-ups' },
  'operator.wallets.charged_cents': { max: EVENTS_PER_STREAM * maxOf(WalletCharged.shape.amount_cents), why: 'sum of a wallet’s charges' },
  'operator.wallets.refunded_cents': { max: EVENTS_PER_STREAM * maxOf(WalletCharged.shape.amount_cents), why: 'sum of a wallet’s refunds' },
  'operator.wallets.version': streamVersion,
  'operator.ledger.version': streamVersion,
  'operator.ledger.amount_cents': { max: maxOf(billingCommands.top_up.request.shape.amount_cents) > maxOf(WalletCharged.shape.amount_cents) ? maxOf(billingCommands.top_up.request.shape.amount_cents) : maxOf(WalletCharged.shape.amount_cents), why: 'one movement (signed)' },
  'operator.ledger.balance_after_cents': contract(WalletToppedUp, 'balance_after_cents'),
  'operator.providers.version': streamVersion,
  'operator.niches.next_start_order_position': contract(DistributionStarted, 'start_order_position'),
  'operator.niches.version': streamVersion,
  'operator.levels.order_position': contract(CompetitionLevelAdded, 'order_position'),
  'operator.levels.max_recipients': contract(CompetitionLevelAdded, 'max_recipients'),
  'operator.levels.price_per_lead_cents': contract(CompetitionLevelAdded, 'price_per_lead_cents'),
  'operator.levels.version': streamVersion,
  'operator.subscriptions.daily_cap': contract(SubscriptionCreated, 'daily_cap'),
  'operator.subscriptions.monthly_cap': contract(SubscriptionCreated, 'monthly_cap'),
  'operator.subscriptions.version': streamVersion,
  'operator.assignments.order_position': contract(LeadAssigned, 'order_position'),
  'operator.assignments.price_cents': contract(LeadAssigned, 'price_cents'),
  'operator.decisions.start_order_position': contract(DistributionStarted, 'start_order_position'),
  'operator.decisions.duration_ms': { bookkeeping: 'double precision: a duration, not money or a count' },
  'operator.decisions.version': streamVersion,
  'operator.decision_rounds.order_position': contract(ProvidersSelected, 'order_position'),
  'operator.decision_rounds.round': contract(ProvidersSelected, 'round'),
  'operator.decision_results.price_cents': contract(LeadAssigned, 'price_cents'),
  // Counted per lead: each is an event of the lead's stream.
  'operator.leads.attempts': streamVersion,
  'operator.leads.start_order_position': contract(DistributionStarted, 'start_order_position'),
  'operator.leads.assignments_count': streamVersion,
  'operator.leads.skipped_count': streamVersion,
  'operator.leads.version': streamVersion,
  'operator.leads.duration_ms': { bookkeeping: 'double precision: a duration, not money or a count' },
  'operator.audit_log.seq': { bookkeeping: 'bigserial of the audit log' },
};

/** Bookkeeping columns by table, whatever the schema: migration numbers and log positions. */
const BOOKKEEPING_TABLES: Record<string, string> = {
  migrations: 'migration versions',
  event_store_migrations: 'migration versions',
  projection_checkpoints: 'log positions (bigint, numeric(20) for xid8)',
  // The event store's own: positions are bigint; versions are what streamVersion above relies on.
  events: 'the event store',
  streams: 'the event store',
};

interface ColumnRow {
  table_schema: string;
  table_name: string;
  column_name: string;
  data_type: string;
}

/** Problems found, one line each (empty: every column holds what the contracts accept). */
export async function checkColumnBounds(pool: Pick<pg.Pool, 'query'>): Promise<string[]> {
  const { rows } = await pool.query<ColumnRow>(
    `select c.table_schema, c.table_name, c.column_name, c.data_type
       from information_schema.columns c join information_schema.tables t using (table_schema, table_name)
      where c.table_schema = any($1) and t.table_type = 'BASE TABLE'
        and c.data_type in ('smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision')
      order by 1, 2, 3`,
    [SCHEMAS],
  );
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    const key = `${row.table_schema}.${row.table_name}.${row.column_name}`;
    seen.add(key);
    if (row.column_name.endsWith('_cents') && row.data_type !== 'bigint') problems.push(`${key} holds money but is ${row.data_type}, not bigint`);
    if (BOOKKEEPING_TABLES[row.table_name]) continue;
    const bound = COLUMNS[key];
    if (!bound) {
      problems.push(`${key} (${row.data_type}) is not classified in tests/support/column-bounds.ts: name the contract field or bound it holds`);
      continue;
    }
    if ('bookkeeping' in bound) continue;
    const need = 'contract' in bound ? maxOf(bound.contract) : bound.max;
    const holds = TYPE_MAX[row.data_type];
    if (holds === undefined) problems.push(`${key} is ${row.data_type}, which has no integer range to check`);
    else if (holds < need) problems.push(`${key} is ${row.data_type} (up to ${holds}) but must hold ${need} (${'contract' in bound ? bound.field : bound.why})`);
  }
  for (const key of Object.keys(COLUMNS)) if (!seen.has(key)) problems.push(`${key} is classified but no such numeric column exists`);
  return problems;
}
