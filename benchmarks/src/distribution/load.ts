/**
 * Drives the system as an upstream publisher does (`lead.approved` on JetStream) and
 * learns each outcome from the relayed DistributionCompleted: its `created_at` is when the
 * outcome was recorded in the store; its arrival here is when the rest of the system
 * could see it. Two phases: as fast as leads are absorbed (a bounded window in flight),
 * and a fixed rate.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { LeadApprovedV1Input, Subjects } from '@fairlead/contracts';
import { publishDurable } from '@fairlead/messaging';
import type { DrainResult } from './drain';

export interface LeadRecord {
  leadId: string;
  nicheId: string;
  /** Date.now() just before the publish. */
  publishedAt: number;
  /** The outcome's created_at in the store (ms). */
  recordedAt?: number;
  /** When the relayed outcome reached the benchmark (ms). */
  arrivedAt?: number;
  outcome?: string;
  assignments?: number;
  attempt?: number;
}

interface RelayedOutcome {
  created_at: string;
  data: { lead_id: string; outcome: string; assignments: unknown[]; attempt: number };
}

/** Every lead published and what became of it. */
export class OutcomeTracker {
  readonly leads = new Map<string, LeadRecord>();
  failedAttempts = 0;
  private completed = 0;
  private readonly waiters: { count: number; resolve: () => void }[] = [];
  private readonly subs: Subscription[];

  constructor(nc: NatsConnection, subjects: Subjects) {
    const decoder = new TextDecoder();
    this.subs = [
      nc.subscribe(subjects.eventSubject('lead', 'DistributionCompleted'), {
        callback: (err, msg) => {
          if (err) return;
          const arrivedAt = Date.now();
          const event = JSON.parse(decoder.decode(msg.data)) as RelayedOutcome;
          const lead = this.leads.get(event.data.lead_id);
          if (!lead || lead.recordedAt !== undefined) return;
          lead.recordedAt = Date.parse(event.created_at);
          lead.arrivedAt = arrivedAt;
          lead.outcome = event.data.outcome;
          lead.assignments = event.data.assignments.length;
          lead.attempt = event.data.attempt;
          this.completed++;
          this.wake();
        },
      }),
      nc.subscribe(subjects.eventSubject('lead', 'DistributionFailed'), { callback: () => void this.failedAttempts++ }),
    ];
  }

  /** Outcomes received so far (of leads this tracker published). */
  get done(): number {
    return this.completed;
  }

  /** Resolves once `count` outcomes have arrived; rejects after `timeoutMs` without progress. */
  async waitFor(count: number, timeoutMs: number): Promise<void> {
    let seen = -1;
    while (this.completed < count) {
      if (this.completed === seen) throw new Error(`no outcome for ${timeoutMs} ms: ${this.completed} of ${count} leads done`);
      seen = this.completed;
      await Promise.race([new Promise<void>((resolve) => this.waiters.push({ count, resolve })), sleep(timeoutMs)]);
    }
  }

  /** Resolves when one more outcome arrives (or after `ms`). */
  next(ms: number): Promise<void> {
    return Promise.race([new Promise<void>((resolve) => this.waiters.push({ count: this.completed + 1, resolve })), sleep(ms)]);
  }

  private wake(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (this.completed >= w.count) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  close(): void {
    for (const s of this.subs) s.unsubscribe();
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function leadPayload(leadId: string, nicheId: string): LeadApprovedV1Input {
  return {
    schema_version: 1,
    lead_id: leadId,
    niche_id: nicheId,
    approved_at: new Date().toISOString(),
    consumer: { name: 'Dana Consumer', email: 'dana@example.com', phone: '+14155550100' },
    location: { postal_code: '94107', state: 'CA' },
    details: { move_size: '2br', move_date: '2026-09-01' },
  };
}

export interface Publisher {
  /** Publishes one lead of the given niche; the record is tracked at once, `acked` resolves on the stream's ack. */
  publish(nicheId: string, phase: string, index: number): { record: LeadRecord; acked: Promise<void> };
}

export function publisher(js: JetStreamClient, subjects: Subjects, tracker: OutcomeTracker): Publisher {
  return {
    publish: (nicheId, phase, index) => {
      const leadId = `bench-${phase}-${index}`;
      const record: LeadRecord = { leadId, nicheId, publishedAt: Date.now() };
      tracker.leads.set(leadId, record);
      const acked = publishDurable(js, subjects.leadApproved, leadPayload(leadId, nicheId), { msgID: `approved-${leadId}` }).then(() => undefined);
      return { record, acked };
    },
  };
}

export interface PhaseResult {
  leads: LeadRecord[];
  startedAt: number;
  /** The last outcome's created_at; with notification / the operator API, when they too were done with the phase's leads (drain.ts). */
  endedAt: number;
  /** The last outcome's created_at. */
  outcomesEndedAt: number;
  /** The rest of the lead path (emails, read models), when it ran. */
  drain?: DrainResult;
}

/** Keeps `window` leads in flight (published, no outcome yet) until `count` were published; waits for every outcome. */
export async function saturate(pub: Publisher, tracker: OutcomeTracker, options: { count: number; window: number; niches: readonly string[]; phase: string }): Promise<PhaseResult> {
  const base = tracker.done;
  const leads: LeadRecord[] = [];
  const startedAt = Date.now();
  const acks: Promise<unknown>[] = [];
  for (let i = 0; i < options.count; i++) {
    while (leads.length - (tracker.done - base) >= options.window) await tracker.next(1_000);
    const { record, acked } = pub.publish(options.niches[i % options.niches.length]!, options.phase, i);
    leads.push(record);
    acks.push(acked);
    // Let callbacks (outcomes, acks) run between publishes.
    if (i % 32 === 31) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(acks);
  await tracker.waitFor(base + options.count, 60_000);
  const endedAt = Math.max(...leads.map((l) => l.recordedAt!));
  return { leads, startedAt, endedAt, outcomesEndedAt: endedAt };
}

/** Publishes `ratePerSecond` leads a second for `durationS`, on schedule (not waiting for outcomes). */
export async function fixedRate(pub: Publisher, tracker: OutcomeTracker, options: { ratePerSecond: number; durationS: number; niches: readonly string[]; phase: string }): Promise<PhaseResult> {
  const base = tracker.done;
  const count = Math.round(options.ratePerSecond * options.durationS);
  const interval = 1_000 / options.ratePerSecond;
  const startedAt = Date.now();
  const leads: LeadRecord[] = [];
  const acks: Promise<void>[] = [];
  let late = 0;
  for (let i = 0; i < count; i++) {
    const due = startedAt + i * interval;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    else if (wait < -interval) late++;
    const { record, acked } = pub.publish(options.niches[i % options.niches.length]!, options.phase, i);
    leads.push(record);
    acks.push(acked);
  }
  await Promise.all(acks);
  await tracker.waitFor(base + count, 60_000);
  if (late > count / 20) process.stderr.write(`bench:distribution | warning: ${late} of ${count} publishes left more than one interval late (the benchmark process was starved)\n`);
  const endedAt = Math.max(...leads.map((l) => l.recordedAt!));
  return { leads, startedAt, endedAt, outcomesEndedAt: endedAt };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
