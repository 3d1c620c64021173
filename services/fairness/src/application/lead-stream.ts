/**
 * Reading and writing a lead's stream for the distribution: every event read is
 * validated against its contract, and every append checks the version the decisions
 * were made on, so a concurrent writer makes us re-read and re-decide instead of overwrite.
 */
import type pg from 'pg';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { handOverSessionLockSql } from '@fairlead/event-sourcing';
import type { AppendResult, PostgresEventStore, StoredEvent, StreamAppend } from '@fairlead/event-store';
import { evolveDistribution, initialDistributionState, isLeadEventType, type DistributionState, type LeadEvent } from '../domain/distribution-state';
import { recordPendingPicks, recordPendingPicksSql, settlePendingPicks, settlePendingPicksSql, type PendingPickRow, type PickRef } from '../projections/subscription-stats/pending-picks';
import { prepareReceipts, recordReceipts, type Receipt, type StatsRead } from '../projections/subscription-stats/subscription-stats';
import type { NicheLock } from './niche-lock';

/** Parses the events of a lead stream that the distribution reads; others only advance the version. */
export function foldLeadStream(events: readonly StoredEvent[]): DistributionState {
  let state = initialDistributionState();
  for (const e of events) {
    if (!isLeadEventType(e.type)) {
      state = { ...state, version: e.streamVersion };
      continue;
    }
    const event = { type: e.type, data: parseDistributionEvent(e.type, e.data) } as LeadEvent;
    state = evolveDistribution(state, event, e.streamVersion);
  }
  return state;
}

export interface PendingEvent {
  id: string;
  event: LeadEvent;
  /** For a ProvidersSelected: the served time of each of its picks, in order. */
  servedAt?: readonly Date[];
}

/**
 * Decisions not yet written: the state the decider sees already includes them, and
 * flushWriters() writes them (with the receipt stats of the assignments among them) in one
 * transaction, for one lead or a whole batch. The handler flushes before any call whose
 * effect depends on them being recorded (charging picks) and at the end; steps in between
 * share one round trip.
 */
export class LeadWriter {
  private pending: PendingEvent[] = [];
  private stored: DistributionState;
  private current: DistributionState;

  constructor(
    readonly leadId: string,
    state: DistributionState,
    private readonly metadata: Record<string, unknown>,
  ) {
    this.stored = state;
    this.current = state;
  }

  /** The stored state plus the decisions buffered since. */
  get state(): DistributionState {
    return this.current;
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Whether a buffered event moves the served view (an assignment, a pick, a pick answered or taken back). */
  get movesServedView(): boolean {
    const picks = this.pending.some(({ event }) => event.type === 'ProvidersSelected' && event.data.picks.length > 0);
    return picks || this.pendingReceipts().length > 0 || this.settledPicks().length > 0;
  }

  add(events: readonly PendingEvent[]): void {
    for (const e of events) {
      this.current = evolveDistribution(this.current, e.event, this.current.version + 1);
      this.pending.push(e);
    }
  }

  /** Forgets the buffered decisions; `state` is the stream as just read. */
  reset(state: DistributionState): void {
    this.pending = [];
    this.stored = state;
    this.current = state;
  }

  /** The buffered events as one append, expecting the stored version (a concurrent writer makes it fail). */
  pendingAppend(): StreamAppend {
    return {
      stream: streams.lead(this.leadId),
      events: this.pending.map(({ id, event }) => ({ id, type: event.type, data: event.data, metadata: this.metadata })),
      expected: this.stored.version === -1 ? 'no_stream' : this.stored.version,
    };
  }

  /** The assignments among the buffered events, for `fairness.subscription_stats`. */
  pendingReceipts(): Receipt[] {
    return this.pending.flatMap(({ event }) => (event.type === 'LeadAssigned' ? [event.data] : []));
  }

  /** The picks among the buffered events, for `fairness.pending_picks`. */
  pendingPicks(): PendingPickRow[] {
    return this.pending.flatMap(({ event, servedAt }) => {
      if (event.type !== 'ProvidersSelected') return [];
      const d = event.data;
      return d.picks.map((p, i) => {
        const at = servedAt?.[i];
        if (!at) throw new Error(`pick ${p.provider_id} of lead ${d.lead_id} has no served time`);
        return { lead_id: d.lead_id, provider_id: p.provider_id, level_id: d.level_id, subscription_id: p.subscription_id, served_at: at };
      });
    });
  }

  /** The picks the buffered events answer or take back. */
  settledPicks(): PickRef[] {
    const lead_id = this.leadId;
    return this.pending.flatMap(({ event }): PickRef[] => {
      if (event.type === 'LeadAssigned' || event.type === 'ProviderSkipped') return [{ lead_id, provider_id: event.data.provider_id, level_id: event.data.level_id }];
      if (event.type === 'PicksWithdrawn') return event.data.picks.map((p) => ({ lead_id, provider_id: p.provider_id, level_id: p.level_id }));
      return [];
    });
  }

  /** The buffered events are stored now. */
  markFlushed(): void {
    this.pending = [];
    this.stored = this.current;
  }
}

/**
 * Appends every writer's buffered events (one round trip for all streams, each against
 * its stored version) and moves the served view with them, atomically: the assignments
 * among them counted in `fairness.subscription_stats`, their picks added to
 * `fairness.pending_picks` and the picks they answer removed. Throws ConcurrencyError /
 * EventIdConflictError when someone else wrote to one of the leads first (nothing is
 * written then). A writer whose events were all stored already (an earlier attempt) is
 * read again: the stream, not our guess, says where it stands.
 *
 * Usually that is one statement (writeInOneStatement), after a read of the stats rows when
 * assignments are among the events and `statsRead` (read with the served view) does not hold
 * them already; a flush it refuses is written as a transaction.
 */
export async function flushWriters(client: pg.ClientBase, store: PostgresEventStore, writers: readonly LeadWriter[], statsRead?: StatsRead, handOver?: NicheLock): Promise<void> {
  const dirty = writers.filter((w) => w.hasPending);
  if (dirty.length === 0) return;
  const appends = dirty.map((w) => w.pendingAppend());
  const receipts = dirty.map((w) => w.pendingReceipts());
  const picks = dirty.map((w) => w.pendingPicks());
  const settled = dirty.map((w) => w.settledPicks());
  let results: AppendResult[];
  if (receipts.every((r) => r.length === 0) && picks.every((p) => p.length === 0) && settled.every((s) => s.length === 0)) {
    // One statement (append_batch) needs no transaction of its own.
    results = await store.appendManyInTransaction(client, appends);
  } else {
    const inOne = await writeInOneStatement(client, store, appends, receipts.flat(), picks.flat(), settled.flat(), statsRead, handOver?.key);
    // Written in one statement, every append wrote: the lock went with that commit.
    if (inOne && handOver) handOver.handedOver = true;
    results = inOne ?? (await writeInTransaction(client, store, appends, receipts, picks, settled));
  }
  const stale = dirty.filter((w, i) => {
    if (results[i]!.appended === 0) return true;
    w.markFlushed();
    return false;
  });
  await reloadWriters(store, stale);
}

/** SQLSTATE of fairness.flush_written's refusal (schema.ts, migration 4). */
const FLUSH_REFUSED = 'FA001';

/**
 * The flush as one autocommit statement: append_batch, the settled picks' delete, the new
 * picks' insert and the stats rows (computed as recordReceipts computes them, from a read
 * just before), all or nothing. fairness.flush_written undoes the whole statement unless
 * every append wrote and every stats row was still the version read; then, and when a pick
 * would be both settled and recorded (the transactional path's delete-then-insert order),
 * it returns undefined and writeInTransaction decides, as it always did.
 */
async function writeInOneStatement(
  client: pg.ClientBase,
  store: PostgresEventStore,
  appends: StreamAppend[],
  receipts: Receipt[],
  picks: PendingPickRow[],
  settled: PickRef[],
  statsRead: StatsRead | undefined,
  handOverKey: string | undefined,
): Promise<AppendResult[] | undefined> {
  const key = (p: PickRef) => `${p.lead_id}\u0000${p.provider_id}\u0000${p.level_id}`;
  const settledKeys = new Set(settled.map(key));
  if (picks.some((p) => settledKeys.has(key(p)))) return undefined;
  const stats = await prepareReceipts(client, receipts, statsRead);
  try {
    return await store.appendManyWith(client, appends, {
      ctes: (param) =>
        [
          // RETURNING only so that the lock's hand-over below can name them.
          settled.length > 0 && `picks_settled as (${settlePendingPicksSql(settled, param)} returning 1)`,
          picks.length > 0 && `picks_recorded as (${recordPendingPicksSql(picks, param)} returning 1)`,
          stats.ctes(param),
        ]
          .filter((x): x is string => typeof x === 'string' && x !== '')
          .join(',\n'),
      select: (param) => {
        const written = `fairness.flush_written((select r_outcomes from appended), ${param(stats.expected)}::integer, (${stats.written})::integer)`;
        if (handOverKey === undefined) return written;
        // A session-level unlock stays done if the statement fails after it, and the fallback
        // would then write unlocked. So the lock is handed over only after everything that can
        // fail: CASE evaluates its condition first, and the condition runs the check and every
        // data-modifying CTE to completion (one that nothing names would run after the select list).
        const ran = [settled.length > 0 && '(select count(*) from picks_settled) >= 0', picks.length > 0 && '(select count(*) from picks_recorded) >= 0'].filter(Boolean);
        return `(case when ${[written, ...ran].join(' and ')} then ${handOverSessionLockSql(param(handOverKey))} end)`;
      },
    });
  } catch (error) {
    if ((error as { code?: string }).code === FLUSH_REFUSED) return undefined;
    throw error;
  }
}

/** The flush as one transaction, statement by statement: side rows only for the appends that wrote. */
async function writeInTransaction(
  client: pg.ClientBase,
  store: PostgresEventStore,
  appends: StreamAppend[],
  receipts: Receipt[][],
  picks: PendingPickRow[][],
  settled: PickRef[][],
): Promise<AppendResult[]> {
  await client.query('begin');
  try {
    const results = await store.appendManyInTransaction(client, appends);
    // The view moves only with events actually written: a re-append counts nothing twice.
    const written = <T>(lists: T[][]) => lists.flatMap((list, i) => (results[i]!.appended > 0 ? list : []));
    await recordReceipts(client, written(receipts));
    await settlePendingPicks(client, written(settled));
    await recordPendingPicks(client, written(picks));
    await client.query('commit');
    return results;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

/** Reads the writers' streams again, in one query, forgetting what they buffered. */
export async function reloadWriters(store: PostgresEventStore, writers: readonly LeadWriter[]): Promise<void> {
  if (writers.length === 0) return;
  const read = await store.readStreams(writers.map((w) => streams.lead(w.leadId)));
  for (const w of writers) w.reset(foldLeadStream(read.get(streams.lead(w.leadId)) ?? []));
}
