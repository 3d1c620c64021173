/**
 * Every change of a wallet is one `handleCommand` of the wallet decider (or, for a batch
 * of charges over many wallets, one `handleCommandOnStreams`), in one transaction: lock
 * the provider's row in `billing.wallets` (so a wallet's decisions are taken one at a
 * time, across instances; this process's own commands queue in memory first), load the
 * wallet from the row with the records the command needs (`billing.charges`,
 * `billing.top_ups`), decide, append to `wallet-<providerId>` with the version the row
 * names, and alongside: move the row, write the caller's rows, and apply the low-balance
 * rule to the provider's subscriptions — all committed together. The row is kept in step
 * with the stream; should they ever disagree (a lost race), the row is rebuilt from the
 * stream and the decision taken again, a bounded number of times.
 *
 * A batch of charges is usually written without a transaction, in two statements (a read
 * without a lock, then one statement that appends and writes the rows, refused whole when a
 * wallet decided on moved meanwhile — see chargeBatch); the way above is its fallback.
 */
import type pg from 'pg';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import {
  handleCommand,
  handleCommandOnStreams,
  KeyedMutex,
  rowLock,
  Semaphore,
  type CommandOutcome,
  type Loaded,
  type LoadContext,
  type OneStatementPath,
  type StreamsOutcome,
} from '@fairlead/event-sourcing';
import type { AppendStatement, PostgresEventStore, StoredEvent } from '@fairlead/event-store';
import { chargeKey, decideChargeBatch, evolveWallet, openWallet, WALLET_EVENT_TYPES, type ChargeBatchDecision, type ChargeCommand, type ChargeRecord, type Wallet, type WalletEvent } from '../domain/wallet';
import { emptyWalletState, walletDecider, type DecidedWalletEvent, type TopUpRecord, type WalletCommand, type WalletState } from '../domain/wallet.decider';
import { PRICED_SUBSCRIPTIONS_OF_MANY_SQL, PRICED_SUBSCRIPTIONS_SQL, type ProviderSubscriptionRow } from '../projections/subscriptions/subscriptions.projection';
import { chargeColumnsOf, recordCharges } from './charge-records';
import { applyLowBalanceRule, lowBalanceChangesOf } from './low-balance';

export interface WalletLedgerOptions {
  pool: pg.Pool;
  store: PostgresEventStore;
  /** Rebuilds of a wallet after a conflict before giving up (default 3). */
  maxConflicts?: number;
  /** Wallet writes in flight at once in this process (default: half the pool left after the listener and a projector, at least 1). */
  maxConcurrentWrites?: number;
  /** False: every charge batch takes the transactional path (default true: two statements first; see chargeBatch). For comparisons. */
  batchInTwoStatements?: boolean;
}

export type WalletOutcome = CommandOutcome<DecidedWalletEvent, WalletState>;
/** A batch's outcome; its decision's events are keyed by wallet stream. */
export type ChargeBatchOutcome = StreamsOutcome<WalletState, ChargeBatchDecision>;

export interface WalletWriteOptions {
  /** Metadata of the events (an event's own is merged over it). */
  metadata?: Record<string, unknown>;
  /** The caller's own rows, in the transaction of the append (after the wallet row moved). */
  alongside?: (tx: pg.ClientBase, outcome: WalletOutcome) => Promise<void>;
}

interface WalletRow {
  balance_cents: string;
  version: number;
}

const walletOfRow = (providerId: string, row: WalletRow): Wallet => ({ provider_id: providerId, balance_cents: Number(row.balance_cents), version: row.version });

export class WalletLedger {
  private readonly mutex = new KeyedMutex();
  private readonly slots: Semaphore;
  private readonly maxConflicts: number;

  constructor(private readonly options: WalletLedgerOptions) {
    this.maxConflicts = options.maxConflicts ?? 3;
    this.slots = new Semaphore(options.maxConcurrentWrites ?? Math.max(1, Math.floor(((options.pool.options.max ?? 10) - 2) / 2)));
  }

  /** The wallet as committed now; undefined for a provider that is not registered. */
  async read(db: Pick<pg.ClientBase, 'query'>, providerId: string): Promise<Wallet | undefined> {
    const { rows } = await db.query<WalletRow>('select balance_cents, version from billing.wallets where provider_id = $1', [providerId]);
    const row = rows[0];
    return row ? walletOfRow(providerId, row) : undefined;
  }

  /** Decides the command on the wallet's latest state and records the outcome atomically. */
  write(command: WalletCommand, options: WalletWriteOptions = {}): Promise<WalletOutcome> {
    const { pool, store } = this.options;
    const providerId = command.provider_id;
    return handleCommand({ store, pool }, streams.wallet(providerId), walletDecider, command, {
      lock: rowLock('select balance_cents, version from billing.wallets where provider_id = $1 for update', [providerId]),
      load: (context) => this.load(context, command),
      inProcess: { mutex: this.mutex, slots: this.slots },
      maxConflicts: this.maxConflicts,
      ...(options.metadata ? { metadata: options.metadata } : {}),
      alongside: async (tx, outcome) => {
        const wallet = outcome.state.wallet!;
        // The caller's rows do not touch subscriptions, so the prices read with the row stand for the rule.
        const priced = await saveRowReadingPrices(tx, wallet);
        await options.alongside?.(tx, outcome);
        await applyLowBalanceRule(tx, store, providerId, wallet.balance_cents, priced);
      },
    });
  }

  /**
   * A batch of charges over several wallets, all committed together (decideChargeBatch),
   * each wallet decided on its own latest state, the decisions recorded in `billing.charges`.
   * Providers that are not registered answer `no_wallet`.
   *
   * Usually two statements, no transaction: one read of the wallet rows with the batch's
   * charge records and priced subscriptions (one snapshot, no lock), then the decision, then
   * one statement appending the events and calling billing.write_charge_batch (migration 4),
   * which moves the wallet rows and records the decisions — refused whole unless every append
   * wrote and every wallet decided on is still at the version read. A batch answered from its
   * records alone (a repeat) writes nothing. A refused batch, or one that moves a
   * subscription's low-balance status, takes the transactional path: the rows locked in
   * provider order (as is every single write's one row, so writers never wait on each other
   * in a cycle), decided, written, committed.
   */
  chargeBatch(charges: readonly ChargeCommand[], stopAtFirstDecline: boolean): Promise<ChargeBatchOutcome> {
    const { pool, store } = this.options;
    const providerIds = [...new Set(charges.map((c) => c.provider_id))].sort();
    return handleCommandOnStreams(
      { store, pool },
      providerIds.map((id) => streams.wallet(id)),
      walletDecider,
      (loaded) => {
        const wallets = new Map<string, Wallet>();
        const known = new Map<string, ChargeRecord>();
        for (const { state } of loaded.values()) {
          if (!state.wallet) continue;
          wallets.set(state.wallet.provider_id, state.wallet);
          for (const record of state.charges.values()) known.set(chargeKey(record.lead_id, record.provider_id), record);
        }
        const decision = decideChargeBatch(charges, { stopAtFirstDecline }, wallets, known);
        return { ...decision, events: new Map([...decision.events].map(([providerId, events]) => [streams.wallet(providerId), events])) };
      },
      {
        lock: rowLock('select provider_id, balance_cents, version from billing.wallets where provider_id = any($1::text[]) order by provider_id for update', [providerIds]),
        load: async ({ tx, lockedRows, afterConflict }) => {
          const rows = lockedRows as unknown as (WalletRow & { provider_id: string })[];
          const records = await findChargesOf(tx, charges);
          const loaded = new Map<string, Loaded<WalletState>>();
          for (const row of rows) {
            const wallet = afterConflict ? await rebuildRow(tx, store, row.provider_id) : walletOfRow(row.provider_id, row);
            const state = { ...emptyWalletState(wallet), charges: records.get(row.provider_id) ?? new Map<string, ChargeRecord>() };
            loaded.set(streams.wallet(row.provider_id), { state, version: wallet.version });
          }
          return loaded;
        },
        ...(this.options.batchInTwoStatements === false ? {} : { oneStatement: this.twoStatements(providerIds, charges) }),
        inProcess: { mutex: this.mutex, slots: this.slots },
        maxConflicts: this.maxConflicts,
        alongside: async (tx, outcome) => {
          const moved = outcome.written.map((stream) => outcome.after.get(stream)!.state.wallet!);
          const priced = await saveRowsReadingPrices(tx, moved);
          await recordCharges(tx, [...outcome.decision.events.values()].flat());
          for (const wallet of moved) await applyLowBalanceRule(tx, store, wallet.provider_id, wallet.balance_cents, priced.get(wallet.provider_id) ?? []);
        },
      },
    );
  }

  /** chargeBatch's two-statement path (handleCommandOnStreams' oneStatement). */
  private twoStatements(providerIds: readonly string[], charges: readonly ChargeCommand[]): OneStatementPath<WalletState, ChargeBatchDecision> {
    /** The priced subscriptions read with the wallets, by provider. */
    let priced = new Map<string, ProviderSubscriptionRow[]>();
    return {
      read: async (db) => {
        const read = await readChargeBatch(db, providerIds, charges);
        priced = read.priced;
        return read.loaded;
      },
      statement: (outcome) => {
        const moved = outcome.written.map((stream) => outcome.after.get(stream)!.state.wallet!);
        // A subscription to move (rare: a balance crossing its cheapest price) takes the transactional path, which moves it.
        if (moved.some((w) => lowBalanceChangesOf(w.balance_cents, priced.get(w.provider_id) ?? []).length > 0)) return undefined;
        return writeChargeBatchStatement(outcome);
      },
      refusal: CHARGE_BATCH_REFUSED,
    };
  }

  /**
   * The wallet from its locked row, with the records the command is decided on. No row: no
   * wallet (the decider refuses). After a lost race, or read outside the lock (the answer to
   * a repeat), the stream is the truth and the row is rebuilt from it.
   */
  private async load({ tx, lockedRows, afterConflict }: LoadContext, command: WalletCommand): Promise<Loaded<WalletState>> {
    const db = tx ?? this.options.pool;
    const row = lockedRows[0] as WalletRow | undefined;
    if (tx && !row) return { state: emptyWalletState(), version: -1 };
    const wallet = tx && !afterConflict ? walletOfRow(command.provider_id, row!) : await rebuildRow(tx, this.options.store, command.provider_id);
    const state: WalletState = { wallet, charges: new Map(), topUps: new Map() };
    if (command.type === 'charge' || command.type === 'refund') {
      // A refund locks the charge's row: the refund and its record move together.
      const record = await findCharge(db, command.lead_id, command.provider_id, command.type === 'refund' && tx !== undefined);
      if (record) state.charges = new Map([[command.lead_id, record]]);
    }
    if (command.type === 'top_up' && command.idempotency_key !== undefined) {
      const record = await findTopUp(db, command.provider_id, command.idempotency_key);
      if (record) state.topUps = new Map([[command.idempotency_key, record]]);
    }
    return { state, version: wallet.version };
  }
}

/** SQLSTATE of billing.write_charge_batch's refusal (schema.ts, migration 4). */
const CHARGE_BATCH_REFUSED = 'BL001';

interface ChargeBatchReadRow extends WalletRow {
  provider_id: string;
  /** [lead_id, level_id, charged, amount_cents, balance_cents, refunded] of each of the batch's charges already recorded for the provider. */
  charges: [string, string, boolean, number, number, boolean][];
  /** [subscription_id, status, version, price_cents] of each of the provider's priced subscriptions. */
  priced: [string, string, number, number][];
}

/**
 * The batch's wallets (streams absent: no wallet), with their records of the batch's
 * charges, and their priced subscriptions for the low-balance rule: one statement, one
 * snapshot, no lock.
 */
async function readChargeBatch(
  db: Pick<pg.ClientBase, 'query'>,
  providerIds: readonly string[],
  pairs: readonly { lead_id: string; provider_id: string }[],
): Promise<{ loaded: Map<string, Loaded<WalletState>>; priced: Map<string, ProviderSubscriptionRow[]> }> {
  const { rows } = await db.query<ChargeBatchReadRow>({
    name: 'billing.charge_batch_read',
    text: `select w.provider_id, w.balance_cents, w.version,
       coalesce((select json_agg(json_build_array(c.lead_id, c.level_id, c.charged, c.amount_cents, c.balance_cents, c.refunded_at is not null))
                   from billing.charges c
                   join unnest($2::text[], $3::text[]) as p(lead_id, provider_id) on c.lead_id = p.lead_id and c.provider_id = p.provider_id
                  where c.provider_id = w.provider_id), '[]') as charges,
       coalesce((select json_agg(json_build_array(s.subscription_id, s.status, s.version, l.price_per_lead_cents) order by s.subscription_id)
                   from billing.subscriptions s join billing.levels l on l.level_id = s.level_id
                  where s.provider_id = w.provider_id), '[]') as priced
     from billing.wallets w where w.provider_id = any($1::text[])`,
    values: [providerIds, pairs.map((p) => p.lead_id), pairs.map((p) => p.provider_id)],
  });
  const loaded = new Map<string, Loaded<WalletState>>();
  const priced = new Map<string, ProviderSubscriptionRow[]>();
  for (const row of rows) {
    const wallet = walletOfRow(row.provider_id, row);
    const records = new Map<string, ChargeRecord>(
      row.charges.map(([lead_id, level_id, charged, amount_cents, balance_cents, refunded]) => [
        lead_id,
        { lead_id, provider_id: row.provider_id, level_id, charged, amount_cents: Number(amount_cents), balance_cents: Number(balance_cents), refunded },
      ]),
    );
    loaded.set(streams.wallet(row.provider_id), { state: { ...emptyWalletState(wallet), charges: records }, version: wallet.version });
    priced.set(
      row.provider_id,
      row.priced.map(([subscription_id, status, version, price]) => ({ subscription_id, status, version, price_cents: String(price) })),
    );
  }
  return { loaded, priced };
}

/**
 * The caller's part of the batch's one statement (appendManyWith): billing.write_charge_batch
 * after append_batch, with every wallet decided on and the version it was read at, the
 * wallets written with their new balance and version, and the decisions' charge rows.
 */
function writeChargeBatchStatement(outcome: ChargeBatchOutcome): AppendStatement {
  const decidedOn = [...outcome.before.values()].map(({ state }) => state.wallet!);
  const moved = outcome.written.map((stream) => outcome.after.get(stream)!.state.wallet!);
  const c = chargeColumnsOf([...outcome.decision.events.values()].flat());
  return {
    ctes: () => '',
    select: (param) =>
      `billing.write_charge_batch((select r_outcomes from appended), ${[
        [decidedOn.map((w) => w.provider_id), 'text[]'],
        [decidedOn.map((w) => w.version), 'integer[]'],
        [moved.map((w) => w.provider_id), 'text[]'],
        [moved.map((w) => w.balance_cents), 'bigint[]'],
        [moved.map((w) => w.version), 'integer[]'],
        [c.lead_ids, 'text[]'],
        [c.provider_ids, 'text[]'],
        [c.subscription_ids, 'text[]'],
        [c.level_ids, 'text[]'],
        [c.charged, 'boolean[]'],
        [c.amounts, 'bigint[]'],
        [c.balances, 'bigint[]'],
      ]
        .map(([value, type]) => `${param(value)}::${type as string}`)
        .join(', ')})`,
  };
}

/** The wallet as its stream has it, written to its row when in a transaction. */
async function rebuildRow(tx: pg.ClientBase | undefined, store: PostgresEventStore, providerId: string): Promise<Wallet> {
  const wallet = fold(openWallet(providerId), await store.readStream(streams.wallet(providerId)));
  if (tx) {
    await tx.query('update billing.wallets set balance_cents = $2, version = $3, updated_at = now() where provider_id = $1', [wallet.provider_id, wallet.balance_cents, wallet.version]);
  }
  return wallet;
}

/** Moves the row and reads the provider's priced subscriptions for the low-balance rule, in one round trip. */
async function saveRowReadingPrices(tx: pg.ClientBase, wallet: Wallet): Promise<ProviderSubscriptionRow[]> {
  // A data-modifying WITH runs to completion whether or not the select reads it.
  const { rows } = await tx.query<ProviderSubscriptionRow>(
    `with moved as (update billing.wallets set balance_cents = $2, version = $3, updated_at = now() where provider_id = $1)
     ${PRICED_SUBSCRIPTIONS_SQL}`,
    [wallet.provider_id, wallet.balance_cents, wallet.version],
  );
  return rows;
}

/** saveRowReadingPrices for several wallets: one round trip for all. */
async function saveRowsReadingPrices(tx: pg.ClientBase, wallets: readonly Wallet[]): Promise<Map<string, ProviderSubscriptionRow[]>> {
  const { rows } = await tx.query<ProviderSubscriptionRow & { provider_id: string }>({
    name: 'billing.save_rows_reading_prices',
    text: `with moved as (
       update billing.wallets w set balance_cents = m.balance_cents, version = m.version, updated_at = now()
         from unnest($1::text[], $2::bigint[], $3::integer[]) as m(provider_id, balance_cents, version)
        where w.provider_id = m.provider_id)
     ${PRICED_SUBSCRIPTIONS_OF_MANY_SQL}`,
    values: [wallets.map((w) => w.provider_id), wallets.map((w) => w.balance_cents), wallets.map((w) => w.version)],
  });
  const byProvider = new Map<string, ProviderSubscriptionRow[]>();
  for (const { provider_id, ...row } of rows) byProvider.set(provider_id, [...(byProvider.get(provider_id) ?? []), row]);
  return byProvider;
}

// bigint columns arrive as strings; parsed here, once per row read (amounts stay far below 2^53).
interface ChargeRow {
  lead_id: string;
  provider_id: string;
  level_id: string;
  charged: boolean;
  amount_cents: string;
  balance_cents: string;
  refunded_at: Date | null;
}

const recordOfRow = (row: ChargeRow): ChargeRecord => ({
  lead_id: row.lead_id,
  provider_id: row.provider_id,
  level_id: row.level_id,
  charged: row.charged,
  amount_cents: Number(row.amount_cents),
  balance_cents: Number(row.balance_cents),
  refunded: row.refunded_at !== null,
});

async function findCharge(db: Pick<pg.ClientBase, 'query'>, leadId: string, providerId: string, lock: boolean): Promise<ChargeRecord | undefined> {
  const { rows } = await db.query<ChargeRow>(
    `select lead_id, provider_id, level_id, charged, amount_cents, balance_cents, refunded_at from billing.charges where lead_id = $1 and provider_id = $2${lock ? ' for update' : ''}`,
    [leadId, providerId],
  );
  return rows[0] ? recordOfRow(rows[0]) : undefined;
}

/** The decisions already recorded for these (lead, provider) pairs, per provider and lead. */
async function findChargesOf(db: Pick<pg.ClientBase, 'query'>, pairs: readonly { lead_id: string; provider_id: string }[]): Promise<Map<string, Map<string, ChargeRecord>>> {
  const { rows } = await db.query<ChargeRow>({
    // Named (as are the batch's other statements): parsed and planned once per connection.
    name: 'billing.charges_of',
    text: `select c.lead_id, c.provider_id, c.level_id, c.charged, c.amount_cents, c.balance_cents, c.refunded_at
       from billing.charges c
       join unnest($1::text[], $2::text[]) as p(lead_id, provider_id) using (lead_id, provider_id)`,
    values: [pairs.map((p) => p.lead_id), pairs.map((p) => p.provider_id)],
  });
  const byProvider = new Map<string, Map<string, ChargeRecord>>();
  for (const row of rows) {
    const records = byProvider.get(row.provider_id) ?? new Map<string, ChargeRecord>();
    byProvider.set(row.provider_id, records.set(row.lead_id, recordOfRow(row)));
  }
  return byProvider;
}

async function findTopUp(db: Pick<pg.ClientBase, 'query'>, providerId: string, key: string): Promise<TopUpRecord | undefined> {
  const { rows } = await db.query<{ amount_cents: string; reference: string }>('select amount_cents, reference from billing.top_ups where provider_id = $1 and idempotency_key = $2', [
    providerId,
    key,
  ]);
  return rows[0] ? { amount_cents: Number(rows[0].amount_cents), reference: rows[0].reference } : undefined;
}

/** Opens a registered provider's wallet (balance 0, no events yet), in the registration's transaction. */
export async function openWalletRow(tx: Pick<pg.ClientBase, 'query'>, providerId: string): Promise<void> {
  await tx.query('insert into billing.wallets (provider_id, balance_cents, version) values ($1, 0, -1) on conflict (provider_id) do nothing', [providerId]);
}

/** The wallet after its stream's events (events of other types only advance the version). */
export function fold(wallet: Wallet, events: readonly StoredEvent[]): Wallet {
  let w = wallet;
  for (const e of events) {
    if (!WALLET_EVENT_TYPES.has(e.type)) {
      w = { ...w, version: e.streamVersion };
      continue;
    }
    const type = e.type as WalletEvent['type'];
    w = evolveWallet(w, { type, data: parseDistributionEvent(type, e.data) } as WalletEvent, e.streamVersion);
  }
  return w;
}
