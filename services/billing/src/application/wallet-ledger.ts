/**
 * Every change of a wallet runs here, in one transaction: lock the provider's row in
 * `billing.wallets` (so a wallet's decisions are taken one at a time, across instances),
 * decide on its balance, append to `wallet-<providerId>` with the version the row names,
 * move the row, write the caller's own rows, and apply the low-balance rule to the
 * provider's subscriptions — all committed together. The row is kept in step with the
 * stream; should they ever disagree (a conflict), the row is rebuilt from the stream and
 * the decision taken again, a bounded number of times.
 */
import type pg from 'pg';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { isConcurrencyError, type PostgresEventStore, type StoredEvent } from '@fairlead/event-store';
import { ProviderNotFoundError } from '../domain/errors';
import { evolveWallet, openWallet, WALLET_EVENT_TYPES, type Wallet, type WalletEvent } from '../domain/wallet';
import { KeyedMutex, Semaphore } from '@fairlead/platform';
import { PRICED_SUBSCRIPTIONS_OF_MANY_SQL, PRICED_SUBSCRIPTIONS_SQL, type ProviderSubscriptionRow } from '../projections/subscriptions/subscriptions.projection';
import { applyLowBalanceRule } from './low-balance';

export interface WalletLedgerOptions {
  pool: pg.Pool;
  store: PostgresEventStore;
  /** Rebuilds of a wallet after a conflict before giving up (default 3). */
  maxConflicts?: number;
  /** Wallet writes in flight at once in this process (default: half the pool left after the listener and a projector, at least 1). */
  maxConcurrentWrites?: number;
}

export interface WalletDecision<R> {
  events: readonly { id: string; event: WalletEvent }[];
  /** The service's own rows, written in the transaction of the append (after it). */
  alongside?: (tx: pg.PoolClient, wallet: Wallet) => Promise<void>;
  /** The answer, from the wallet after the events. */
  result: (wallet: Wallet) => R;
}

export type DecideOnWallet<R> = (wallet: Wallet, tx: pg.PoolClient) => Promise<WalletDecision<R>> | WalletDecision<R>;

/** A decision on several wallets at once (writeMany). */
export interface WalletsDecision<R> {
  /** Events per provider, in order; a provider without any is only read. An event's own metadata replaces the provider's. */
  events: ReadonlyMap<string, readonly { id: string; event: WalletEvent; metadata?: Record<string, unknown> }[]>;
  /** The service's own rows for all of them, written after the appends. */
  alongside?: (tx: pg.PoolClient, wallets: ReadonlyMap<string, Wallet>) => Promise<void>;
  /** The answer, from the wallets after the events (registered providers only). */
  result: (wallets: ReadonlyMap<string, Wallet>) => R;
}

export type DecideOnWallets<R> = (wallets: ReadonlyMap<string, Wallet>, tx: pg.PoolClient) => Promise<WalletsDecision<R>>;

interface WalletRow {
  balance_cents: string;
  version: number;
}

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
    return row ? { provider_id: providerId, balance_cents: Number(row.balance_cents), version: row.version } : undefined;
  }

  /** Decides on the wallet's latest state and records the outcome atomically. */
  write<R>(providerId: string, decide: DecideOnWallet<R>, metadata: Record<string, unknown> = {}): Promise<R> {
    return this.mutex.run(providerId, () => this.slots.run(() => this.writeLocked(providerId, decide, metadata)));
  }

  /**
   * Decides on several wallets in one transaction (one request's charges): their rows are
   * locked in provider order (as is every single write's one row, so writers never wait on
   * each other in a cycle), each wallet is decided on its own latest state, and everything
   * commits together. Providers that are not registered are simply absent from the map.
   * A row out of step with its stream throws the ConcurrencyError (nothing is written):
   * the caller then writes wallet by wallet, which rebuilds the row.
   */
  writeMany<R>(providerIds: readonly string[], decide: DecideOnWallets<R>, metadataOf: (providerId: string) => Record<string, unknown>): Promise<R> {
    const keys = [...new Set(providerIds)].sort();
    // This process's writers of one wallet queue on its key; keys are taken in order too.
    const locked = (i: number): Promise<R> =>
      i === keys.length ? this.slots.run(() => this.writeManyLocked(keys, decide, metadataOf)) : this.mutex.run(keys[i]!, () => locked(i + 1));
    return locked(0);
  }

  private async writeManyLocked<R>(providerIds: readonly string[], decide: DecideOnWallets<R>, metadataOf: (providerId: string) => Record<string, unknown>): Promise<R> {
    const { pool, store } = this.options;
    const tx = await pool.connect();
    let broken: Error | undefined;
    try {
      await tx.query('begin');
      const { rows } = await tx.query<WalletRow & { provider_id: string }>(
        'select provider_id, balance_cents, version from billing.wallets where provider_id = any($1::text[]) order by provider_id for update',
        [providerIds],
      );
      const wallets = new Map<string, Wallet>(rows.map((r) => [r.provider_id, { provider_id: r.provider_id, balance_cents: Number(r.balance_cents), version: r.version }]));
      const decision = await decide(wallets, tx);
      const next = new Map(wallets);
      const written = providerIds.filter((id) => (decision.events.get(id)?.length ?? 0) > 0 && wallets.has(id));
      // Every wallet's events in one round trip, each stream checked against the version its row names.
      await store.appendManyInTransaction(
        tx,
        written.map((providerId) => {
          const wallet = wallets.get(providerId)!;
          const decided = decision.events.get(providerId)!;
          let moved = wallet;
          decided.forEach(({ event }, i) => (moved = evolveWallet(moved, event, wallet.version + 1 + i)));
          next.set(providerId, moved);
          return {
            stream: streams.wallet(providerId),
            events: decided.map(({ id, event, metadata }) => ({ id, type: event.type, data: event.data, metadata: metadata ?? metadataOf(providerId) })),
            expected: wallet.version === -1 ? ('no_stream' as const) : wallet.version,
          };
        }),
      );
      if (written.length > 0) {
        const priced = await this.saveRowsReadingPrices(tx, written.map((id) => next.get(id)!));
        await decision.alongside?.(tx, next);
        for (const id of written) await applyLowBalanceRule(tx, store, id, next.get(id)!.balance_cents, priced.get(id) ?? []);
      }
      await tx.query('commit');
      return decision.result(next);
    } catch (error) {
      await tx.query('rollback').catch((rollbackError: Error) => (broken = rollbackError));
      throw error;
    } finally {
      tx.release(broken);
    }
  }

  /** saveRowReadingPrices for several wallets: one round trip for all. */
  private async saveRowsReadingPrices(tx: pg.PoolClient, wallets: readonly Wallet[]): Promise<Map<string, ProviderSubscriptionRow[]>> {
    const { rows } = await tx.query<ProviderSubscriptionRow & { provider_id: string }>(
      `with moved as (
         update billing.wallets w set balance_cents = m.balance_cents, version = m.version, updated_at = now()
           from unnest($1::text[], $2::bigint[], $3::integer[]) as m(provider_id, balance_cents, version)
          where w.provider_id = m.provider_id)
       ${PRICED_SUBSCRIPTIONS_OF_MANY_SQL}`,
      [wallets.map((w) => w.provider_id), wallets.map((w) => w.balance_cents), wallets.map((w) => w.version)],
    );
    const byProvider = new Map<string, ProviderSubscriptionRow[]>();
    for (const { provider_id, ...row } of rows) byProvider.set(provider_id, [...(byProvider.get(provider_id) ?? []), row]);
    return byProvider;
  }

  private async writeLocked<R>(providerId: string, decide: DecideOnWallet<R>, metadata: Record<string, unknown>): Promise<R> {
    const { pool, store } = this.options;
    const tx = await pool.connect();
    let broken: Error | undefined;
    try {
      await tx.query('begin');
      const { rows } = await tx.query<WalletRow>('select balance_cents, version from billing.wallets where provider_id = $1 for update', [providerId]);
      const row = rows[0];
      if (!row) throw new ProviderNotFoundError(providerId);
      let wallet: Wallet = { provider_id: providerId, balance_cents: Number(row.balance_cents), version: row.version };
      for (let conflicts = 0; ; conflicts++) {
        const decision = await decide(wallet, tx);
        if (decision.events.length === 0) {
          await tx.query('commit');
          return decision.result(wallet);
        }
        const events = decision.events.map(({ id, event }) => ({ id, type: event.type, data: event.data, metadata }));
        try {
          await store.appendInTransaction(tx, streams.wallet(providerId), events, wallet.version === -1 ? 'no_stream' : wallet.version);
        } catch (error) {
          if (!isConcurrencyError(error) || conflicts >= this.maxConflicts) throw error;
          // The row fell out of step with the stream: the stream is the truth.
          wallet = fold(openWallet(providerId), await store.readStream(streams.wallet(providerId)));
          await this.saveRow(tx, wallet);
          continue;
        }
        let next = wallet;
        decision.events.forEach(({ event }, i) => (next = evolveWallet(next, event, wallet.version + 1 + i)));
        // The caller's rows do not touch subscriptions, so the prices read with the row stand for the rule.
        const priced = await this.saveRowReadingPrices(tx, next);
        await decision.alongside?.(tx, next);
        await applyLowBalanceRule(tx, store, providerId, next.balance_cents, priced);
        await tx.query('commit');
        return decision.result(next);
      }
    } catch (error) {
      // A connection that cannot even roll back is discarded, not returned to the pool.
      await tx.query('rollback').catch((rollbackError: Error) => (broken = rollbackError));
      throw error;
    } finally {
      tx.release(broken);
    }
  }

  /** Moves the row and reads the provider's priced subscriptions for the low-balance rule, in one round trip. */
  private async saveRowReadingPrices(tx: pg.PoolClient, wallet: Wallet): Promise<ProviderSubscriptionRow[]> {
    // A data-modifying WITH runs to completion whether or not the select reads it.
    const { rows } = await tx.query<ProviderSubscriptionRow>(
      `with moved as (update billing.wallets set balance_cents = $2, version = $3, updated_at = now() where provider_id = $1)
       ${PRICED_SUBSCRIPTIONS_SQL}`,
      [wallet.provider_id, wallet.balance_cents, wallet.version],
    );
    return rows;
  }

  private async saveRow(tx: pg.PoolClient, wallet: Wallet): Promise<void> {
    await tx.query('update billing.wallets set balance_cents = $2, version = $3, updated_at = now() where provider_id = $1', [
      wallet.provider_id,
      wallet.balance_cents,
      wallet.version,
    ]);
  }
}

/** Opens a registered provider's wallet (balance 0, no events yet), in the registration's transaction. */
export async function openWalletRow(tx: Pick<pg.ClientBase, 'query'>, providerId: string): Promise<void> {
  await tx.query('insert into billing.wallets (provider_id, balance_cents, version) values ($1, 0, -1) on conflict (provider_id) do nothing', [providerId]);
}

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
