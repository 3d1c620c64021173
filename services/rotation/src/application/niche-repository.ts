/**
 * Loading and writing niches. The niche stream grows with every claim, so its state is
 * cached in memory with its version and only newer events are read. Every write is one
 * handleCommand of the niche decider holding a PostgreSQL advisory lock on the niche (so
 * instances sharing the database take turns: the state read after taking it is the latest;
 * this process's own writes queue in memory first), with the claims the command names read
 * under that lock, and the service's own rows written with the append. A conflict (someone
 * appended without the lock) re-reads and re-decides a bounded number of times.
 *
 * A write with rows alongside as SQL (the claims) — or with none — is two autocommit
 * statements under a session-level lock: rotation.lock_niche (schema.ts) takes the lock and
 * reads the newer events and the claims, then one statement appends, writes the rows and
 * hands the lock over to its own transaction. A write with rows alongside as statements
 * (add_level's level id) runs in a transaction holding the lock on the same key.
 */
import type pg from 'pg';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { advisoryLock, handleCommand, KeyedMutex, Semaphore, type CommandOutcome, type LoadContext, type Loaded } from '@fairlead/event-sourcing';
import type { AppendStatement, PostgresEventStore, StoredEvent } from '@fairlead/event-store';
import { evolveNiche, NICHE_EVENT_TYPES, type Niche, type NicheEvent, type NicheState } from '../domain/niche';
import { nicheDecider, type DecidedNicheEvent, type NicheDecisionState, type NicheDeciderCommand } from '../domain/niche.decider';
import { findClaims, type ClaimRow } from './claims-table';

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
  /** The service's own rows, in the append's transaction (after it): the write runs as a transaction. */
  alongside?: (tx: pg.ClientBase, outcome: NicheOutcome) => Promise<void>;
  /**
   * Or as SQL of the append's statement (handleCommand's alongsideStatement: written only
   * when the append wrote): the write runs as two autocommit statements.
   */
  alongsideStatement?: (outcome: NicheOutcome) => AppendStatement | undefined;
}

/** A row of rotation.lock_niche: an event of the niche stream, or a stored claim. */
interface LockedRow {
  stream_version: number | null;
  type: string | null;
  data: unknown;
  lead_id: string | null;
  niche_id: string | null;
  start_order_position: number | null;
  traversal: ClaimRow['traversal'] | null;
}

/** What folding a niche needs of a stored event. */
type NicheStreamEvent = Pick<StoredEvent, 'type' | 'data' | 'streamVersion'>;

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
    // The key differs from fairness's session lock on the niche.
    const lockKey = `rotation:niche:${nicheId}`;
    const locking = options.alongside
      ? { lock: advisoryLock(lockKey), alongside: options.alongside }
      : { sessionLock: { key: lockKey, takenByLoad: true }, ...(options.alongsideStatement ? { alongsideStatement: options.alongsideStatement } : {}) };
    const outcome = await handleCommand({ store, pool }, streams.niche(nicheId), nicheDecider, command, {
      ...locking,
      load: (context) => this.loadForDecision(context, nicheId, leadsOf(command)),
      inProcess: { mutex: this.mutex, key: nicheId, slots: this.slots },
      maxConflicts: this.maxConflicts,
      ...(options.metadata ? { metadata: options.metadata } : {}),
    });
    // Committed: the cache may move forward.
    if (outcome.state.niche) this.remember(outcome.state.niche);
    return outcome;
  }

  private async loadForDecision({ tx, session }: LoadContext, nicheId: string, leadIds: readonly string[]): Promise<Loaded<NicheDecisionState>> {
    if (session?.lockKey) return this.lockAndLoad(session.client, session.lockKey, nicheId, leadIds);
    const niche = await this.load(nicheId);
    const claims = leadIds.length > 0 ? await findClaims(tx ?? this.options.pool, leadIds) : new Map();
    return { state: { niche, claims }, version: niche?.version ?? -1 };
  }

  /** One call of rotation.lock_niche: the lock, then the events newer than the cached state and the claims of `leadIds`. */
  private async lockAndLoad(client: pg.ClientBase, lockKey: string, nicheId: string, leadIds: readonly string[]): Promise<Loaded<NicheDecisionState>> {
    const cached = this.cache.get(nicheId) ?? null;
    const { rows } = await client.query<LockedRow>({
      name: 'rotation.lock_niche',
      text: 'select stream_version, type, data, lead_id, niche_id, start_order_position, traversal from rotation.lock_niche($1, $2, $3, $4::text[])',
      values: [lockKey, streams.niche(nicheId), cached ? cached.version + 1 : 0, leadIds],
    });
    const events: NicheStreamEvent[] = [];
    const claims = new Map<string, ClaimRow>();
    for (const r of rows) {
      if (r.lead_id !== null) claims.set(r.lead_id, { niche_id: r.niche_id!, start_order_position: r.start_order_position!, traversal: r.traversal! });
      else events.push({ type: r.type!, data: r.data, streamVersion: r.stream_version! });
    }
    const niche = fold(cached, events);
    if (niche) this.remember(niche);
    return { state: { niche, claims }, version: niche?.version ?? -1 };
  }

  // Only ever moves forward: a slower reader must not put back an older state.
  private remember(state: Niche): void {
    const cached = this.cache.get(state.niche_id);
    if (!cached || cached.version < state.version) this.cache.set(state.niche_id, state);
  }
}

function fold(state: NicheState, events: readonly NicheStreamEvent[]): NicheState {
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
