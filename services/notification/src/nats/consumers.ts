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
  /** The gather window of assignment-email batches (default LEAD_ASSIGNED_GATHER_MS, at most LEAD_ASSIGNED_GATHER_MAX_MS). */
  leadAssignedGatherMs?: number | undefined;
}

/** Assignment emails handled together at most (their sends share the SMTP connection pool). */
export const LEAD_ASSIGNED_BATCH_MAX = 32;
/**
 * How long a batch of assignment emails gathers after its first message: every LeadAssigned that
 * arrives meanwhile goes in it (up to LEAD_ASSIGNED_BATCH_MAX), whichever lead it is of. A batch costs
 * three statements (facts, claim, finish), a catcher insert and their wake-ups whatever its size, and
 * at a low lead rate each lead came alone: at 12 leads/s a 200 ms window takes three leads per batch,
 * at 36 leads/s seven. Emails are not on a lead's outcome path; an email goes up to this much later.
 */
export const LEAD_ASSIGNED_GATHER_MS = 200;
/** The longest gather window a configuration may ask for. */
export const LEAD_ASSIGNED_GATHER_MAX_MS = 1_000;

/**
 * The consumer keys of LeadAssigned messages: windows of arrival. A message opens a window (a key)
 * when the last one is older than `windowMs` or full (`max` messages), and joins it otherwise; the
 * runner's batch of that key gathers for `windowMs` after its first message, so a window's messages
 * go as one batch. A lead's assignments arrive together (the relay publishes them in one burst) and so
 * share a window, except when one closes in the middle of the burst. Windows take the keys in turn
 * (`keys` of them: batches of successive windows run side by side, up to the runner's concurrency).
 */
export function arrivalWindows(options: { keys: number; windowMs: number; max: number; now?: () => number }): () => string {
  const keys = Math.max(1, options.keys);
  // Monotonic: a wall clock set back would keep a window open until it is full.
  const now = options.now ?? (() => performance.now());
  let key = -1;
  let opened = -Infinity;
  let count = 0;
  return () => {
    const t = now();
    if (t - opened >= options.windowMs || count >= options.max) {
      key = (key + 1) % keys;
      opened = t;
      count = 0;
    }
    count++;
    return `window-${key}`;
  };
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
    // Assignment emails go in batches (one read of the directory and the leads, one claim and one finish of the
    // outbox for many; the emails of a batch sent at once): per-batch round trips are what a low lead rate pays.
    // A key is a window of arrival (arrivalWindows), so the assignments that arrive within the gather window, a
    // lead's four and those of the next leads, go as one batch, and `concurrency` batches run at once. What that
    // gives up: one provider's emails may go in batches side by side, so no longer one at a time in delivery
    // order. Nothing relied on that order: each email stands alone (its lead, price and time in it); a batch's
    // emails were always sent at once; a retry comes after later emails anyway; two replicas never shared an
    // order; and SMTP delivers in no particular order. Exactly-once is the outbox's (its locks), not the key's.
    const gatherMs = Math.min(Math.max(0, options.leadAssignedGatherMs ?? LEAD_ASSIGNED_GATHER_MS), LEAD_ASSIGNED_GATHER_MAX_MS);
    const windowKey = arrivalWindows({ keys: common.concurrency, windowMs: gatherMs, max: LEAD_ASSIGNED_BATCH_MAX });
    runners.push(
      await runConsumer({
        ...common,
        durable: `${prefix}-lead-assigned`,
        filterSubject: subjects.eventSubject('lead', 'LeadAssigned'),
        schema: LeadAssignedMessage,
        keyOf: () => windowKey(),
        maxAckPending: common.concurrency * LEAD_ASSIGNED_BATCH_MAX,
        batch: {
          max: LEAD_ASSIGNED_BATCH_MAX,
          gatherMs,
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
