/**
 * The two emails, from event to SMTP: compose once (read models + template), record it
 * in the outbox, send it under the row lock, record the outcome. A redelivered event
 * finds its row sent and sends nothing.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { LeadApproved, streams, type DistributionEventData } from '@fairlead/contracts';
import type { EventStore } from '@fairlead/event-store';
import { PermanentError } from '@fairlead/messaging';
import { firstNameOf, leadAssignedVariables, lowBalanceVariables, outboxId, type EmailKind, type LeadSummary, type ProviderFacts } from '../domain/emails';
import { MissingFactError } from '../domain/errors';
import type { NotificationMetrics } from '../metrics';
import { findNicheName, findProvider, findSubscription, type SubscriptionFacts } from '../projections/directory/directory.queries';
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
  data: D;
}

export interface Attempt {
  attempt: number;
  maxAttempts: number;
}

export type NotifyResult = 'sent' | 'already_sent' | 'ignored';

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

  async function sendOnce(kind: EmailKind, event: SourceEvent<unknown>, attempt: Attempt, compose: () => Promise<Composed>): Promise<NotifyResult> {
    const id = outboxId(kind, event.event_id);
    const existing = await findOutbox(pool, id);
    if (existing?.status === 'sent') {
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
      return sendOnce('low_balance', event, attempt, async () => {
        const provider = await lookup<ProviderFacts>(`provider ${d.provider_id}`, () => findProvider(pool, d.provider_id));
        const subscription = await lookup<SubscriptionFacts & { niche_name: string; level_name: string }>(`subscription ${d.subscription_id}`, async () => {
          const s = await findSubscription(pool, d.subscription_id);
          return s && s.niche_name !== null && s.level_name !== null ? { ...s, niche_name: s.niche_name, level_name: s.level_name } : undefined;
        });
        return {
          recipient: provider.email,
          variables: lowBalanceVariables({
            provider,
            nicheName: subscription.niche_name,
            levelName: subscription.level_name,
            subscriptionId: d.subscription_id,
            pausedAt: event.created_at,
          }),
        };
      });
    },
  };
}
