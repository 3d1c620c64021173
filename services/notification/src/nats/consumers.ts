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
  /** Emails sent at once per consumer (different providers; one provider's in order). */
  concurrency?: number | undefined;
  /** Durable name prefix (default `notification`). */
  durablePrefix?: string | undefined;
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
    runners.push(
      await runConsumer({
        ...common,
        durable: `${prefix}-lead-assigned`,
        filterSubject: subjects.eventSubject('lead', 'LeadAssigned'),
        schema: LeadAssignedMessage,
        keyOf: (m) => m.data.provider_id,
        handler: async (m, ctx) => {
          const result = await notifier.leadAssigned(m, ctx);
          ctx.logger.debug({ eventId: m.event_id, result }, 'LeadAssigned handled');
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
