/**
 * Durable JetStream consumers on the relayed event stream, one per event type (nats-server
 * 2.9 has no multiple filter subjects): LeadAssigned → lead_assigned email,
 * SubscriptionStatusChanged → low_balance email. Retries, backoff and dead letters are
 * the messaging runner's; idempotence is the outbox's.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { LeadAssigned, RelayedEvent, SubscriptionStatusChanged, type Subjects } from '@fairlead/contracts';
import { runConsumer, type ConsumerRunner } from '@fairlead/messaging';
import type { Notifier } from '../application/notify';

export interface NotificationConsumersOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  subjects: Subjects;
  notifier: Notifier;
  logger: Logger;
  /** Delay before each retry (attempts = length + 1). */
  backoffMs?: readonly number[] | undefined;
  /** Emails (batches of assignment emails) handled at once per consumer. */
  concurrency?: number | undefined;
  /** Durable name prefix (default `notification`). */
  durablePrefix?: string | undefined;
}

/** Assignment emails handled together at most (their sends share the SMTP connection pool). */
const LEAD_ASSIGNED_BATCH_MAX = 32;
/**
 * How long a batch waits for the rest of its burst before it starts: a lead's four assignments arrive
 * over a few ms (separate publishes, separate socket reads; the next turn of the event loop caught
 * 2.4 of them at 37 leads/s, 5 ms caught 4.2 — the micro-benchmark's emails_per_batch). Emails are
 * seconds-scale; 5 ms more per batch is not felt.
 */
const LEAD_ASSIGNED_GATHER_MS = 5;

/** A stable bucket in [0, buckets) for an id (FNV-1a; a hash, not a security boundary). */
export function bucketOf(id: string, buckets: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % Math.max(1, buckets);
}

/** The consumer key of a LeadAssigned: a bucket of its lead, so a lead's assignments share a key (and a batch). */
export function leadAssignedKey(message: { data: { lead_id: string } }, buckets: number): string {
  return `bucket-${bucketOf(message.data.lead_id, buckets)}`;
}

// A payload that does not match is dead-lettered by the runner as malformed, never handled.
const LeadAssignedMessage = RelayedEvent.extend({ data: LeadAssigned });
const StatusChangedMessage = RelayedEvent.extend({ data: SubscriptionStatusChanged });

export async function startNotificationConsumers(options: NotificationConsumersOptions): Promise<ConsumerRunner[]> {
  const { js, jsm, subjects, notifier, logger } = options;
  const prefix = options.durablePrefix ?? 'notification';
  const common = {
    js,
    jsm,
    stream: subjects.streams.events,
    deadLetter: { subjectFor: (subject: string) => subjects.deadLetterSubject(subject) },
    concurrency: options.concurrency ?? 4,
    logger,
    ...(options.backoffMs ? { backoffMs: options.backoffMs } : {}),
  };
  const runners: ConsumerRunner[] = [];
  try {
    // Assignment emails go in batches (one read of the directory, one claim and one finish of the outbox for
    // many; the emails of a batch sent at once): a lead brings four, and per-batch round trips are what a low
    // lead rate pays. A key is a bucket of leads, so a lead's four assignments (the relay publishes them
    // together; a batch waits LEAD_ASSIGNED_GATHER_MS for the rest of the burst) go as one batch, and
    // `concurrency` batches run at once. What that gives up: one provider's emails of different leads may go
    // in batches side by side, so no longer one at a time in delivery order. Nothing relied on that order:
    // each email stands alone (its lead, price and time in it); a batch's emails were always sent at once;
    // a retry comes after later emails anyway; two replicas never shared an order; and SMTP delivers in no
    // particular order. Exactly-once is the outbox's (its locks), not the key's.
    const buckets = common.concurrency;
    runners.push(
      await runConsumer({
        ...common,
        durable: `${prefix}-lead-assigned`,
        filterSubject: subjects.eventSubject('lead', 'LeadAssigned'),
        schema: LeadAssignedMessage,
        keyOf: (m) => leadAssignedKey(m, buckets),
        maxAckPending: buckets * LEAD_ASSIGNED_BATCH_MAX,
        batch: {
          max: LEAD_ASSIGNED_BATCH_MAX,
          // The relay publishes a lead's assignments together: they reach this process within a few ms.
          gatherMs: LEAD_ASSIGNED_GATHER_MS,
          handler: async (items) => {
            const results = await notifier.leadAssignedBatch(items.map(({ message, ctx }) => ({ event: message, attempt: ctx })));
            items.forEach(({ message, ctx }, n) => ctx.logger.debug({ eventId: message.event_id, result: results[n] }, 'LeadAssigned handled'));
            return results.map((r) => (r instanceof Error ? r : undefined));
          },
        },
      }),
    );
    runners.push(
      await runConsumer({
        ...common,
        durable: `${prefix}-low-balance`,
        filterSubject: subjects.eventSubject('subscription', 'SubscriptionStatusChanged'),
        schema: StatusChangedMessage,
        keyOf: (m) => m.data.provider_id,
        handler: async (m, ctx) => {
          const result = await notifier.subscriptionStatusChanged(m, ctx);
          ctx.logger.debug({ eventId: m.event_id, result }, 'SubscriptionStatusChanged handled');
        },
      }),
    );
  } catch (error) {
    await Promise.allSettled(runners.map((r) => r.stop()));
    throw error;
  }
  return runners;
}
