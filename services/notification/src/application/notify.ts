/**
 * The two emails, from event to SMTP: compose once (read models + template), record it
 * in the outbox, send it under the row lock, record the outcome. A redelivered event
 * finds its row sent and sends nothing. The low-balance email is one per provider and
 * pause: every SubscriptionStatusChanged of that pause finds the same outbox row.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { LeadApproved, streams, type DistributionEventData } from '@fairlead/contracts';
import type { EventStore } from '@fairlead/event-store';
import { PermanentError } from '@fairlead/messaging';
import { firstNameOf, leadAssignedVariables, lowBalanceVariables, outboxId, pauseGroupKey, type EmailKind, type LeadSummary, type PausedSubscription, type ProviderFacts } from '../domain/emails';
import { MissingFactError } from '../domain/errors';
import type { NotificationMetrics } from '../metrics';
import { findNicheName, findProvider, findSubscription, subscriptionsOfProvider, type SubscriptionFacts } from '../projections/directory/directory.queries';
import { describeSmtpFailure, isPermanentSmtpFailure, type MailSender } from '../smtp/sender';
import { deliver, findOutbox, recordEmail } from './outbox';
import type { TemplateSet } from './templates';

export interface NotifierDeps {
  pool: pg.Pool;
  store: EventStore;
  templates: TemplateSet;
  sender: MailSender;
  /** The From header of every email. */
  from: string;
  /** Resolves once the directory read model has applied everything stored now. */
  directoryCaughtUp(): Promise<void>;
  metrics: NotificationMetrics;
  logger: Logger;
}

/** The source event, as the relay published it. */
export interface SourceEvent<D> {
  event_id: string;
  stream: string;
  created_at: string;
  /** The storing transaction (decimal): events written together share it. */
  transaction_id?: string;
  data: D;
}

export interface Attempt {
  attempt: number;
  maxAttempts: number;
}

/** `grouped`: the event belongs to an email another event of the same group already sent. */
export type NotifyResult = 'sent' | 'already_sent' | 'grouped' | 'ignored';

export interface Notifier {
  leadAssigned(event: SourceEvent<DistributionEventData<'LeadAssigned'>>, attempt: Attempt): Promise<NotifyResult>;
  subscriptionStatusChanged(event: SourceEvent<DistributionEventData<'SubscriptionStatusChanged'>>, attempt: Attempt): Promise<NotifyResult>;
}

interface Composed {
  recipient: string;
  variables: Record<string, string>;
}

export function createNotifier(deps: NotifierDeps): Notifier {
  const { pool, store, templates, sender, metrics } = deps;

  /**
   * Read models lag the event log a little: an event can arrive before the projector has
   * applied the provider it names. A miss waits for the projector once, then counts as a
   * transient failure (retried with backoff).
   */
  async function lookup<T>(what: string, find: () => Promise<T | undefined>): Promise<T> {
    const first = await find();
    if (first !== undefined) return first;
    await deps.directoryCaughtUp();
    const second = await find();
    if (second === undefined) throw new MissingFactError(`${what} is not known (yet)`);
    return second;
  }

  async function leadSummary(leadId: string): Promise<LeadSummary> {
    const events = await store.readStream(streams.lead(leadId), 0, 50);
    const approved = events.find((e) => e.type === 'LeadApproved');
    if (!approved) throw new MissingFactError(`lead ${leadId} has no LeadApproved event`);
    const parsed = LeadApproved.safeParse(approved.data);
    if (!parsed.success) throw new PermanentError(`LeadApproved of lead ${leadId} does not match its schema`);
    const lead = parsed.data.lead;
    // The summary names the place and whom to greet; contact details stay in the dashboard.
    return {
      lead_id: lead.lead_id,
      postal_code: lead.location.postal_code,
      state: lead.location.state,
      city: lead.location.city,
      consumer_first_name: firstNameOf(lead.consumer.name),
    };
  }

  /** `groupKey`: what the email stands for when several events share one (default: the event). */
  async function sendOnce(kind: EmailKind, event: SourceEvent<unknown>, attempt: Attempt, compose: () => Promise<Composed>, groupKey = event.event_id): Promise<NotifyResult> {
    const id = outboxId(kind, groupKey);
    const existing = await findOutbox(pool, id);
    if (existing?.status === 'sent') {
      if (existing.source_event_id !== event.event_id) return 'grouped';
      metrics.duplicate(kind);
      return 'already_sent';
    }
    if (!existing) {
      const composed = await compose();
      const email = templates.render(kind, composed.variables);
      await recordEmail(pool, {
        id,
        kind,
        sourceEventId: event.event_id,
        sourceStream: event.stream,
        recipient: composed.recipient,
        ...email,
        messageId: `<${id}@fairlead.notification>`,
      });
    }
    const final = attempt.attempt >= attempt.maxAttempts;
    try {
      const result = await deliver(
        pool,
        id,
        (row) => sender.send({ from: deps.from, to: row.recipient, subject: row.subject, text: row.text_body, html: row.html_body, messageId: row.message_id }),
        { final, isPermanent: isPermanentSmtpFailure, describe: describeSmtpFailure },
      );
      if (result.status === 'already_sent') {
        if ((existing?.source_event_id ?? event.event_id) !== event.event_id) return 'grouped';
        metrics.duplicate(kind);
        return 'already_sent';
      }
      metrics.sent(kind);
      deps.logger.info({ outboxId: id, kind, sourceEventId: event.event_id, attempts: result.attempts }, 'email sent');
      return 'sent';
    } catch (error) {
      const permanent = isPermanentSmtpFailure(error);
      if (final || permanent) metrics.failed(kind);
      else metrics.attemptFailed(kind);
      if (permanent) throw new PermanentError(`SMTP refused the email: ${describeSmtpFailure(error)}`, { cause: error, code: 'NOTIFICATION_SMTP_REFUSED' });
      throw error;
    }
  }

  /**
   * The provider's other subscriptions the same balance change paused: billing moves them in
   * the transaction of that change, so their SubscriptionStatusChanged share its id.
   */
  async function pausedWith(event: SourceEvent<DistributionEventData<'SubscriptionStatusChanged'>>): Promise<PausedSubscription[]> {
    if (event.transaction_id === undefined) return [];
    const transactionId = BigInt(event.transaction_id);
    await deps.directoryCaughtUp();
    const others = (await subscriptionsOfProvider(pool, event.data.provider_id)).filter((s) => s.subscription_id !== event.data.subscription_id);
    const paused: PausedSubscription[] = [];
    for (const s of others) {
      const events = await store.readStream(streams.subscription(s.subscription_id));
      const together = events.some(
        (e) => e.type === 'SubscriptionStatusChanged' && e.transactionId === transactionId && (e.data as { to?: unknown }).to === 'paused_low_balance',
      );
      if (together) paused.push({ subscriptionId: s.subscription_id, nicheName: s.niche_name ?? s.niche_id, levelName: s.level_name ?? s.level_id });
    }
    return paused;
  }

  return {
    leadAssigned: (event, attempt) =>
      sendOnce('lead_assigned', event, attempt, async () => {
        const d = event.data;
        const provider = await lookup<ProviderFacts>(`provider ${d.provider_id}`, () => findProvider(pool, d.provider_id));
        const nicheName = await lookup<string>(`niche ${d.niche_id}`, () => findNicheName(pool, d.niche_id));
        const lead = await leadSummary(d.lead_id);
        return {
          recipient: provider.email,
          variables: leadAssignedVariables({ provider, nicheName, levelName: d.level_name, priceCents: d.price_cents, assignedAt: d.assigned_at, lead }),
        };
      }),

    subscriptionStatusChanged: async (event, attempt) => {
      const d = event.data;
      if (d.to !== 'paused_low_balance') return 'ignored';
      const group = pauseGroupKey(d.provider_id, event.transaction_id, event.event_id);
      return sendOnce(
        'low_balance',
        event,
        attempt,
        async () => {
          const provider = await lookup<ProviderFacts>(`provider ${d.provider_id}`, () => findProvider(pool, d.provider_id));
          const own = await lookup<SubscriptionFacts & { niche_name: string; level_name: string }>(`subscription ${d.subscription_id}`, async () => {
            const s = await findSubscription(pool, d.subscription_id);
            return s && s.niche_name !== null && s.level_name !== null ? { ...s, niche_name: s.niche_name, level_name: s.level_name } : undefined;
          });
          const paused = [{ subscriptionId: d.subscription_id, nicheName: own.niche_name, levelName: own.level_name }, ...(await pausedWith(event))];
          return { recipient: provider.email, variables: lowBalanceVariables({ provider, paused, pausedAt: event.created_at }) };
        },
        group,
      );
    },
  };
}
