/**
 * The relay's one way to stop: an event it cannot publish (larger than the bus's
 * max_payload, or refused by JetStream for good). It never skips it silently nor exits
 * over it: it stops just before it — reported by status(), /readyz, the `log_reader_*`
 * gauges and the log — and waits for an operator's decision on its control stream
 * (`projection-relay`): a retry (after a fix, e.g. a larger max_payload) or a park (the
 * event is skipped for good and the relay goes on). Parked events stay skipped after a
 * restart. Events before it are published; none after it is lost.
 */
import type { Logger } from 'pino';
import type { ReaderStatus } from '@fairlead/contracts';
import type { Checkpoint, EventStore, StoredEvent } from '@fairlead/event-store';
import { emptyControl, readControl, type ControlState } from '@fairlead/projections';

export const RELAY_READER_NAME = 'relay';

export interface RelayStall {
  event: StoredEvent;
  error: string;
  since: Date;
  attempts: number;
}

export type Decision = 'retry' | 'parked' | 'stopping';

export class RelayControl {
  stalled: RelayStall | undefined;
  private control: ControlState = emptyControl();
  private wake: (() => void) | undefined;

  constructor(
    private readonly store: Pick<EventStore, 'readStream'>,
    private readonly logger: Logger,
    private readonly pollMs: number,
  ) {}

  /** Reads the parks decided so far (at start: they stay skipped). */
  async load(): Promise<void> {
    await readControl(this.store, RELAY_READER_NAME, this.control);
  }

  isParked(eventId: string): boolean {
    return this.control.parked.has(eventId);
  }

  get parked(): number {
    return this.control.parked.size;
  }

  stall(event: StoredEvent, error: unknown): void {
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 2_000);
    const attempts = this.stalled?.event.id === event.id ? this.stalled.attempts + 1 : 1;
    this.stalled = { event, error: message, since: new Date(), attempts };
    this.logger.error(
      { event_id: event.id, event_type: event.type, stream: event.stream, global_position: event.globalPosition.toString(), attempts, err: error },
      `relay stalled at position ${event.globalPosition} (event ${event.id}, ${event.type} on ${event.stream}): ${message}; later events wait until an operator retries or parks it`,
    );
  }

  /** The stalled event went out (after a retry). */
  resolved(): void {
    if (this.stalled) this.logger.info({ event_id: this.stalled.event.id }, 'the stalled event was published; the relay goes on');
    this.stalled = undefined;
  }

  /** Waits for an operator's retry or park of the stalled event (or for the relay to stop). */
  async waitForDecision(stopping: () => boolean): Promise<Decision> {
    const stall = this.stalled!;
    const retriesBefore = this.control.retries;
    while (!stopping()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      if (stopping()) break;
      try {
        await readControl(this.store, RELAY_READER_NAME, this.control);
      } catch (error) {
        this.logger.warn({ err: error }, 'could not read the relay control stream');
        continue;
      }
      if (this.control.parked.has(stall.event.id)) {
        this.logger.info({ event_id: stall.event.id }, 'stalled event parked; the relay goes on after it');
        this.stalled = undefined;
        return 'parked';
      }
      if (this.control.retries > retriesBefore) {
        this.logger.info({ event_id: stall.event.id }, 'retrying the stalled event');
        return 'retry';
      }
    }
    return 'stopping';
  }

  /** Stops waiting now (stop()). */
  interrupt(): void {
    this.wake?.();
  }

  /** Running from the last published position, or stalled on an event. */
  status(checkpoint: Checkpoint): ReaderStatus {
    const s = this.stalled;
    return {
      name: RELAY_READER_NAME,
      state: s ? 'stalled' : 'running',
      position: { transaction_id: checkpoint.transactionId.toString(), global_position: checkpoint.globalPosition.toString() },
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
      parked: this.parked,
    };
  }
}
