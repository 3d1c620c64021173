/**
 * One projection inside a projector group: where it stands, which events of a page are
 * its own, how it applies them, and whether it is stalled on an event it cannot apply.
 */
import type pg from 'pg';
import type { ReaderStatus } from '@fairlead/contracts';
import type { Checkpoint, StoredEvent } from '@fairlead/event-store';
import { compareCheckpoints } from './checkpoints';
import type { ControlState } from './control';
import type { ProjectionDefinition } from './projector';

/** The part of a pino logger the projector uses. */
export interface ProjectorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface Stall {
  event: StoredEvent;
  error: string;
  since: Date;
  /** Times this event was tried and failed. */
  attempts: number;
}

/** A projection is stalled on an event it cannot apply: reads of it are stale until an operator retries or parks the event. */
export class ProjectionStalledError extends Error {
  readonly code = 'PROJECTION_STALLED';
  constructor(
    readonly projection: string,
    readonly stall: Stall,
  ) {
    super(stallMessage(projection, stall));
    this.name = 'ProjectionStalledError';
  }
}

/** "projection X stalled at position N (event …): why" — what /readyz, logs and errors say. */
export function stallMessage(name: string, stall: Pick<Stall, 'event' | 'error'>): string {
  return `projection ${name} stalled at position ${stall.event.globalPosition} (event ${stall.event.id}, ${stall.event.type} on ${stall.event.stream}): ${stall.error}`;
}

export const checkpointOf = (e: StoredEvent): Checkpoint => ({ transactionId: e.transactionId, globalPosition: e.globalPosition });

const categoryOf = (event: StoredEvent): string => event.stream.split('-', 1)[0] ?? '';

const MAX_ERROR_LENGTH = 2_000;

export class Member {
  readonly categories: Set<string> | undefined;
  readonly types: Set<string> | undefined;
  /** What its checkpoint row says. */
  stored: Checkpoint;
  stalled: Stall | undefined;
  /** Resumed after a stall, reading what it missed before it rejoins the group's pages. */
  catchingUp = false;
  private lastStall: Stall | undefined;
  private readonly waiters = new Set<{ target: Checkpoint; resolve: () => void; reject: (error: Error) => void }>();

  constructor(
    readonly projection: ProjectionDefinition,
    /** What it has applied or skipped, in memory. */
    public position: Checkpoint,
    readonly control: ControlState,
    private readonly logger: ProjectorLogger | undefined,
  ) {
    this.categories = projection.categories ? new Set(projection.categories) : undefined;
    this.types = projection.eventTypes ? new Set(projection.eventTypes) : undefined;
    this.stored = position;
  }

  /** Takes part in the group's pages. */
  get active(): boolean {
    return !this.stalled && !this.catchingUp;
  }

  /** The page's events it applies: after its position, of its categories and types, not parked. */
  eventsOf(page: readonly StoredEvent[]): StoredEvent[] {
    return page.filter(
      (e) =>
        compareCheckpoints(checkpointOf(e), this.position) > 0 &&
        (!this.categories || this.categories.has(categoryOf(e))) &&
        (!this.types || this.types.has(e.type)) &&
        !this.control.parked.has(e.id),
    );
  }

  /** Multi-row writes where the projection has them (the same effect as apply() on each). */
  async applyAll(events: readonly StoredEvent[], tx: pg.PoolClient): Promise<void> {
    if (this.projection.applyBatch && events.length > 1) await this.projection.applyBatch(events, tx);
    else for (const event of events) await this.projection.apply(event, tx);
  }

  /**
   * Applies the events one by one, each under a savepoint, and stops at the first that
   * fails (its writes undone, the earlier ones kept). Errors for which `rethrow` says so
   * (the database's, not the event's) abort the whole transaction instead.
   */
  async applyEachGuarded(events: readonly StoredEvent[], tx: pg.PoolClient, rethrow: (error: unknown) => boolean): Promise<{ event: StoredEvent; error: unknown } | undefined> {
    for (const event of events) {
      await tx.query('savepoint projection_event');
      try {
        await this.projection.apply(event, tx);
        await tx.query('release savepoint projection_event');
      } catch (error) {
        if (rethrow(error)) throw error;
        await tx.query('rollback to savepoint projection_event');
        return { event, error };
      }
    }
    return undefined;
  }

  moveTo(position: Checkpoint, stored = false): void {
    if (compareCheckpoints(position, this.position) > 0) this.position = position;
    if (stored && compareCheckpoints(this.position, this.stored) > 0) this.stored = this.position;
  }

  stall(event: StoredEvent, error: unknown): void {
    const message = (error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_LENGTH);
    const attempts = this.lastStall?.event.id === event.id ? this.lastStall.attempts + 1 : 1;
    this.stalled = { event, error: message, since: new Date(), attempts };
    this.lastStall = this.stalled;
    this.catchingUp = false;
    this.logger?.error(
      { projection: this.projection.name, event_id: event.id, event_type: event.type, stream: event.stream, global_position: event.globalPosition.toString(), attempts, err: error },
      `${stallMessage(this.projection.name, this.stalled)}; later events wait until an operator retries or parks it`,
    );
    const stalledError = new ProjectionStalledError(this.projection.name, this.stalled);
    for (const waiter of this.waiters) waiter.reject(stalledError);
    this.waiters.clear();
  }

  /** An operator retried or parked the event: read on from the position before it. */
  resume(how: 'retry' | 'parked'): void {
    if (!this.stalled) return;
    this.logger?.info({ projection: this.projection.name, event_id: this.stalled.event.id, how }, how === 'parked' ? 'stalled event parked; projection goes on' : 'retrying the stalled event');
    this.stalled = undefined;
    this.catchingUp = true;
  }

  throwIfStalled(): void {
    if (this.stalled) throw new ProjectionStalledError(this.projection.name, this.stalled);
  }

  waitFor(target: Checkpoint, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        target,
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (error: Error) => (clearTimeout(timer), reject(error)),
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`projection ${this.projection.name} did not catch up within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  wakeWaiters(): void {
    for (const waiter of this.waiters) {
      if (compareCheckpoints(this.position, waiter.target) >= 0) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  status(): ReaderStatus {
    const s = this.stalled;
    return {
      name: this.projection.name,
      state: s ? 'stalled' : 'running',
      position: { transaction_id: this.position.transactionId.toString(), global_position: this.position.globalPosition.toString() },
      stalled: s
        ? {
            event_id: s.event.id,
            event_type: s.event.type,
            stream: s.event.stream,
            global_position: s.event.globalPosition.toString(),
            transaction_id: s.event.transactionId.toString(),
            error: s.error,
            since: s.since.toISOString(),
            attempts: s.attempts,
          }
        : null,
      parked: this.control.parked.size,
    };
  }
}
