/**
 * Loading and writing niches. The niche stream grows with every claim, so its state is
 * cached in memory with its version and only newer events are read. Every write is one
 * handleCommand of the niche decider, in one transaction holding a PostgreSQL advisory
 * lock on the niche (so instances sharing the database take turns: the state read after
 * taking it is the latest; this process's own writes queue in memory first), with the
 * claims the command names read under that lock, and the service's own rows written
 * alongside. A conflict (someone appended without the lock) re-reads and re-decides a
 * bounded number of times.
 */
import type pg from 'pg';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { advisoryLock, handleCommand, KeyedMutex, Semaphore, type CommandOutcome, type LoadContext, type Loaded } from '@fairlead/event-sourcing';
import type { PostgresEventStore, StoredEvent } from '@fairlead/event-store';
import { evolveNiche, NICHE_EVENT_TYPES, type Niche, type NicheEvent, type NicheState } from '../domain/niche';
import { nicheDecider, type DecidedNicheEvent, type NicheDecisionState, type NicheDeciderCommand } from '../domain/niche.decider';
import { findClaims } from './claims-table';

export interface NicheRepositoryOptions {
  pool: pg.Pool;
  store: PostgresEventStore;
  /** Re-reads after a concurrent append before giving up (default 5). */
  maxConflicts?: number;
  /** Writes in flight at once in this process (default: half the pool, at least 1). */
  maxConcurrentWrites?: number;
}

export type NicheOutcome = CommandOutcome<DecidedNicheEvent, NicheDecisionState>;

export interface NicheWriteOptions {
  metadata?: Record<string, unknown>;
  /** The service's own rows, in the append's transaction (after it). */
  alongside?: (tx: pg.ClientBase, outcome: NicheOutcome) => Promise<void>;
}

/** The leads a command's decision depends on the stored claims of. */
const leadsOf = (command: NicheDeciderCommand): readonly string[] =>
  command.type === 'claim_start_level' ? [command.lead_id] : command.type === 'claim_start_levels' ? command.lead_ids : [];

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

  /** Decides the command on the niche's latest state and records the outcome atomically. */
  async write(command: NicheDeciderCommand, options: NicheWriteOptions = {}): Promise<NicheOutcome> {
    const { pool, store } = this.options;
    const nicheId = command.niche_id;
    const outcome = await handleCommand({ store, pool }, streams.niche(nicheId), nicheDecider, command, {
      // The key differs from fairness's session lock on the niche.
      lock: advisoryLock(`rotation:niche:${nicheId}`),
      load: (context) => this.loadForDecision(context, nicheId, leadsOf(command)),
      inProcess: { mutex: this.mutex, key: nicheId, slots: this.slots },
      maxConflicts: this.maxConflicts,
      ...(options.metadata ? { metadata: options.metadata } : {}),
      ...(options.alongside ? { alongside: options.alongside } : {}),
    });
    // Committed: the cache may move forward.
    if (outcome.state.niche) this.remember(outcome.state.niche);
    return outcome;
  }

  private async loadForDecision({ tx }: LoadContext, nicheId: string, leadIds: readonly string[]): Promise<Loaded<NicheDecisionState>> {
    const niche = await this.load(nicheId);
    const claims = leadIds.length > 0 ? await findClaims(tx ?? this.options.pool, leadIds) : new Map();
    return { state: { niche, claims }, version: niche?.version ?? -1 };
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
