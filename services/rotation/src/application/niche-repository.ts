/**
 * Loading and writing niches. The niche stream grows with every claim, so its state is
 * cached in memory with its version and only newer events are read. Every write runs in
 * one transaction holding a PostgreSQL advisory lock on the niche (so instances sharing
 * the database take turns: the state read after taking it is the latest), appends with
 * the version it decided on, writes the service's own rows alongside, and commits. A
 * conflict (someone appended without the lock) re-reads and re-decides a bounded number
 * of times.
 */
import type pg from 'pg';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { isConcurrencyError, type NewEvent, type PostgresEventStore, type StoredEvent } from '@fairlead/event-store';
import { evolveNiche, NICHE_EVENT_TYPES, type Niche, type NicheEvent, type NicheState } from '../domain/niche';
import { KeyedMutex, Semaphore } from '@fairlead/platform';

export interface NicheRepositoryOptions {
  pool: pg.Pool;
  store: PostgresEventStore;
  /** Re-reads after a concurrent append before giving up (default 5). */
  maxConflicts?: number;
  /** Writes in flight at once in this process (default: half the pool, at least 1). */
  maxConcurrentWrites?: number;
}

export interface PendingEvent {
  id: string;
  event: NicheEvent;
}

export interface Decision<R> {
  events: readonly PendingEvent[];
  /** The service's own rows, written in the append's transaction (after it). */
  alongside?: (tx: pg.PoolClient, state: Niche) => Promise<void>;
  /** The answer, from the state after the events. */
  result: (state: NicheState) => R;
}

export type Decide<R> = (state: NicheState, tx: pg.PoolClient) => Promise<Decision<R>> | Decision<R>;

export class NicheRepository {
  private readonly cache = new Map<string, Niche>();
  private readonly mutex = new KeyedMutex();
  private readonly slots: Semaphore;
  private readonly maxConflicts: number;

  constructor(private readonly options: NicheRepositoryOptions) {
    this.maxConflicts = options.maxConflicts ?? 5;
    this.slots = new Semaphore(options.maxConcurrentWrites ?? Math.max(1, Math.floor((options.pool.options.max ?? 10) / 2)));
  }

  /** The niche as stored now: the cached state plus the events appended since. */
  async load(nicheId: string): Promise<NicheState> {
    const cached = this.cache.get(nicheId) ?? null;
    const events = await this.options.store.readStream(streams.niche(nicheId), cached ? cached.version + 1 : 0);
    const state = fold(cached, events);
    if (state) this.remember(state);
    return state;
  }

  /** Decides on the latest state and records the outcome atomically; returns the decision's result. */
  write<R>(nicheId: string, decide: Decide<R>, metadata: Record<string, unknown> = {}): Promise<R> {
    return this.mutex.run(nicheId, () => this.slots.run(() => this.writeLocked(nicheId, decide, metadata)));
  }

  private async writeLocked<R>(nicheId: string, decide: Decide<R>, metadata: Record<string, unknown>): Promise<R> {
    const { pool, store } = this.options;
    const stream = streams.niche(nicheId);
    const tx = await pool.connect();
    let broken: Error | undefined;
    try {
      await tx.query('begin');
      // Released by commit or rollback; the key differs from fairness's session lock on the niche.
      await tx.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [`rotation:niche:${nicheId}`]);
      for (let conflicts = 0; ; conflicts++) {
        const state = await this.load(nicheId);
        const decision = await decide(state, tx);
        if (decision.events.length === 0) {
          await tx.query('commit');
          return decision.result(state);
        }
        const newEvents: NewEvent[] = decision.events.map(({ id, event }) => ({ id, type: event.type, data: event.data, metadata }));
        let appended: number;
        try {
          ({ appended } = await store.appendInTransaction(tx, stream, newEvents, state ? state.version : 'no_stream'));
        } catch (error) {
          // A conflict does not abort the transaction: re-read and decide again, still holding the lock.
          if (isConcurrencyError(error) && conflicts < this.maxConflicts) continue;
          throw error;
        }
        if (appended === 0) {
          // Every event was already stored (a retry of a committed write): the stream says where it stands.
          await tx.query('commit');
          return decision.result(await this.load(nicheId));
        }
        let next: NicheState = state;
        decision.events.forEach(({ event }, i) => (next = evolveNiche(next, event, (state?.version ?? -1) + 1 + i)));
        if (!next) throw new Error(`niche ${nicheId}: the events decided on leave no niche`);
        await decision.alongside?.(tx, next);
        await tx.query('commit');
        this.remember(next);
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

  // Only ever moves forward: a slower reader must not put back an older state.
  private remember(state: Niche): void {
    const cached = this.cache.get(state.niche_id);
    if (!cached || cached.version < state.version) this.cache.set(state.niche_id, state);
  }
}

function fold(state: NicheState, events: readonly StoredEvent[]): NicheState {
  let s = state;
  for (const e of events) {
    if (!NICHE_EVENT_TYPES.has(e.type)) {
      if (s) s = { ...s, version: e.streamVersion };
      continue;
    }
    const type = e.type as NicheEvent['type'];
    s = evolveNiche(s, { type, data: parseDistributionEvent(type, e.data) } as NicheEvent, e.streamVersion);
  }
  return s;
}
