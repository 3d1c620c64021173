/**
 * Group commit: appends that arrive while `maxInFlight` batches are already on their way
 * wait, and leave together as the next batch — one round trip, one transaction, one
 * NOTIFY for all of them. Each append keeps its own expected-version check and outcome.
 * A lone writer sees no delay: with a free slot its append leaves at once.
 */
import type { AppendResult } from '../types';
import { asEventIdConflict, type AppendRequest, type BatchOutcome } from './append';

export interface GroupCommitOptions {
  /** Batches on their way at once (each holds one pool connection). */
  maxInFlight: number;
  /** Most events in one batch. */
  maxEvents: number;
}

interface Pending {
  request: AppendRequest;
  resolve: (result: AppendResult) => void;
  reject: (error: Error) => void;
  /** Set after its batch failed as a whole: it is retried alone, so one bad append cannot fail others. */
  alone: boolean;
}

export class GroupCommitter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;

  constructor(
    private readonly send: (requests: AppendRequest[]) => Promise<BatchOutcome[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  append(request: AppendRequest): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ request, resolve, reject, alone: false });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** The next batch: queued appends in arrival order, skipping any whose ids collide with the batch's. */
  private take(): Pending[] {
    const first = this.queue[0]!;
    if (first.alone) return this.queue.splice(0, 1);
    const batch: Pending[] = [];
    const ids = new Set<string>();
    let events = 0;
    for (let i = 0; i < this.queue.length; ) {
      const pending = this.queue[i]!;
      const size = pending.request.events.length;
      const collides = pending.alone || pending.request.events.some((e) => ids.has(e.id));
      if (collides || (batch.length > 0 && events + size > this.options.maxEvents)) {
        i++;
        continue;
      }
      for (const e of pending.request.events) ids.add(e.id);
      events += size;
      batch.push(pending);
      this.queue.splice(i, 1);
    }
    // Stream rows are locked in name order by every batch, so concurrent batches cannot deadlock.
    return batch.sort((a, b) => (a.request.stream < b.request.stream ? -1 : a.request.stream > b.request.stream ? 1 : 0));
  }

  private async run(batch: Pending[]): Promise<void> {
    let outcomes: BatchOutcome[];
    try {
      outcomes = await this.send(batch.map((p) => p.request));
    } catch (error) {
      if (batch.length === 1) {
        const { request } = batch[0]!;
        batch[0]!.reject(asEventIdConflict(error, request.stream, request.events) ?? (error instanceof Error ? error : new Error(String(error))));
        return;
      }
      for (const pending of batch) pending.alone = true;
      this.queue.unshift(...batch);
      return;
    }
    batch.forEach((pending, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) pending.resolve(outcome.result);
      else pending.reject(outcome.error);
    });
  }
}
