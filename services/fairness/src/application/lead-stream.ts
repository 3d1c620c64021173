/**
 * Reading and writing a lead's stream for the distribution: every event read is
 * validated against its contract, and every append checks the version the decisions
 * were made on, so a concurrent writer makes us re-read and re-decide instead of overwrite.
 */
import type pg from 'pg';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import type { PostgresEventStore, StoredEvent } from '@fairlead/event-store';
import { evolveDistribution, initialDistributionState, isLeadEventType, type DistributionState, type LeadEvent } from '../domain/distribution-state';
import { recordReceipts } from '../projections/subscription-stats/subscription-stats';

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

export async function loadDistribution(store: PostgresEventStore, leadId: string): Promise<DistributionState> {
  return foldLeadStream(await store.readStream(streams.lead(leadId)));
}

export interface PendingEvent {
  id: string;
  event: LeadEvent;
}

/**
 * Decisions not yet written: the state the decider sees already includes them, and
 * flush() writes them in one transaction (with the receipt stats of the assignments among
 * them). The handler flushes before any call whose effect depends on them being recorded
 * (charging picks) and at the end; steps in between share one round trip.
 */
export class LeadWriter {
  private pending: PendingEvent[] = [];
  private stored: DistributionState;
  private current: DistributionState;

  constructor(
    private readonly store: PostgresEventStore,
    private readonly leadId: string,
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

  add(events: readonly PendingEvent[]): void {
    for (const e of events) {
      this.current = evolveDistribution(this.current, e.event, this.current.version + 1);
      this.pending.push(e);
    }
  }

  /** Forgets the buffered decisions and reads the stream again (after a concurrent write). */
  async reload(): Promise<void> {
    this.pending = [];
    this.stored = await loadDistribution(this.store, this.leadId);
    this.current = this.stored;
  }

  /**
   * Appends the buffered events with the stored version as the expected one, and counts
   * the assignments among them in `fairness.subscription_stats`, in one transaction.
   * Throws ConcurrencyError / EventIdConflictError when someone else wrote first.
   */
  async flush(client: pg.ClientBase): Promise<void> {
    if (this.pending.length === 0) return;
    const events = this.pending;
    const expected = this.stored.version === -1 ? 'no_stream' : this.stored.version;
    const newEvents = events.map(({ id, event }) => ({ id, type: event.type, data: event.data, metadata: this.metadata }));
    const receipts = events.flatMap(({ event }) => (event.type === 'LeadAssigned' ? [event.data] : []));
    let appended: number;
    if (receipts.length === 0) {
      // One statement needs no transaction of its own.
      appended = (await this.store.appendInTransaction(client, streams.lead(this.leadId), newEvents, expected)).appended;
    } else {
      await client.query('begin');
      try {
        appended = (await this.store.appendInTransaction(client, streams.lead(this.leadId), newEvents, expected)).appended;
        // Stats move only with a LeadAssigned actually written: a re-append counts nothing twice.
        if (appended > 0) await recordReceipts(client, receipts);
        await client.query('commit');
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      }
    }
    if (appended === 0) {
      // Already stored by an earlier attempt: the stream, not our guess, says where it stands.
      await this.reload();
      return;
    }
    this.pending = [];
    this.stored = this.current;
  }
}
