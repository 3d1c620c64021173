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
import { findBatchFacts, findProvider, findProviderAndNiche, findSubscription, subscriptionsOfProvider, type SubscriptionFacts } from '../projections/directory/directory.queries';
import { describeSmtpFailure, isPermanentSmtpFailure, type MailSender } from '../smtp/sender';
import { deliver, deliverMany, findOutbox, type NewOutboxEmail } from './outbox';
import type { TemplateSet } from './templates';

export interface NotifierDeps {
  pool: pg.Pool;
  store: EventStore;
  /**
   * The event store's schema, when it is PostgreSQL's (PostgresEventStore.schema): a batch then reads its
   * leads' LeadApproved in its facts statement instead of a readStream per lead.
   */
  eventStoreSchema?: string | undefined;
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

/** One event of a batch and its delivery's attempt. */
export interface BatchEvent<D> {
  event: SourceEvent<D>;
  attempt: Attempt;
}

export interface Notifier {
  leadAssigned(event: SourceEvent<DistributionEventData<'LeadAssigned'>>, attempt: Attempt): Promise<NotifyResult>;
  /**
   * leadAssigned() for several events at once, with the same effects (one email per event,
   * never two): the reads, the outbox writes and the commit shared by the batch, the emails
   * sent at once. Answers per event, in order: its result, or the error that fails it.
   */
  leadAssignedBatch(items: readonly BatchEvent<DistributionEventData<'LeadAssigned'>>[]): Promise<(NotifyResult | Error)[]>;
  subscriptionStatusChanged(event: SourceEvent<DistributionEventData<'SubscriptionStatusChanged'>>, attempt: Attempt): Promise<NotifyResult>;
}

interface Composed {
  recipient: string;
  variables: Record<string, string>;
}

/**
 * Lead summaries kept (a lead's LeadApproved never changes, and each lead has several
 * assignments, hence emails, close together): most emails then skip reading the lead stream.
 * A Map in insertion order is the whole cache — dropping the oldest entry is all it needs.
 */
const LEAD_SUMMARIES_KEPT = 2_000;

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

  // The read in flight is kept too: a lead's emails arrive together (in one batch, or in several when a retry splits them) and
  // share one read of its stream instead of one each. A failed read is dropped, so a retry reads again.
  const leadSummaries = new Map<string, Promise<LeadSummary>>();
  function leadSummary(leadId: string): Promise<LeadSummary> {
    const kept = leadSummaries.get(leadId);
    if (kept) return kept;
    const reading = readLeadSummary(leadId);
    keepSummary(leadId, reading);
    reading.catch(() => {
      if (leadSummaries.get(leadId) === reading) leadSummaries.delete(leadId);
    });
    return reading;
  }

  /** Keeps a lead's summary (or its read in flight), forgetting the oldest beyond LEAD_SUMMARIES_KEPT. */
  function keepSummary(leadId: string, summary: Promise<LeadSummary>): void {
    leadSummaries.set(leadId, summary);
    if (leadSummaries.size > LEAD_SUMMARIES_KEPT) leadSummaries.delete(leadSummaries.keys().next().value!);
  }

  const noLeadApproved = (leadId: string) => new MissingFactError(`lead ${leadId} has no LeadApproved event`);

  async function readLeadSummary(leadId: string): Promise<LeadSummary> {
    const events = await store.readStream(streams.lead(leadId), 0, 50);
    const approved = events.find((e) => e.type === 'LeadApproved');
    if (!approved) throw noLeadApproved(leadId);
    return summaryOf(leadId, approved.data);
  }

  /** The summary of a lead from its LeadApproved's data. */
  function summaryOf(leadId: string, data: unknown): LeadSummary {
    const parsed = LeadApproved.safeParse(data);
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

  /**
   * The summaries of leads whose LeadApproved a batch's facts statement read (`read`, by stream): each kept
   * (as leadSummary() keeps a read); a lead without one, or with one that does not parse, is answered with
   * its error and not kept (a retry reads it again).
   */
  function summariesRead(leadIds: readonly string[], read: ReadonlyMap<string, unknown>): Map<string, LeadSummary | Error> {
    const out = new Map<string, LeadSummary | Error>();
    for (const leadId of leadIds) {
      const data = read.get(streams.lead(leadId));
      if (data === undefined) {
        out.set(leadId, noLeadApproved(leadId));
        continue;
      }
      try {
        const summary = summaryOf(leadId, data);
        out.set(leadId, summary);
        keepSummary(leadId, Promise.resolve(summary));
      } catch (error) {
        out.set(leadId, error instanceof Error ? error : new Error(String(error)));
      }
    }
    return out;
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
    // A new email is recorded by deliver() just before it takes the email's lock and sends it.
    let record: NewOutboxEmail | undefined;
    if (!existing) {
      const composed = await compose();
      const email = templates.render(kind, composed.variables);
      record = {
        id,
        kind,
        sourceEventId: event.event_id,
        sourceStream: event.stream,
        recipient: composed.recipient,
        ...email,
        messageId: `<${id}@fairlead.notification>`,
      };
    }
    const final = attempt.attempt >= attempt.maxAttempts;
    try {
      const result = await deliver(
        pool,
        id,
        (row) => sender.send({ from: deps.from, to: row.recipient, subject: row.subject, text: row.text_body, html: row.html_body, messageId: row.message_id }),
        { final, isPermanent: isPermanentSmtpFailure, describe: describeSmtpFailure },
        record,
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
   * The summaries of these leads: those `known` (read with the batch's facts), kept ones, the others read (one
   * failing lead fails only its own emails).
   */
  async function leadSummariesOf(leadIds: readonly string[], known: ReadonlyMap<string, LeadSummary | Error>): Promise<Map<string, LeadSummary | Error>> {
    const out = new Map<string, LeadSummary | Error>();
    await Promise.all(
      [...new Set(leadIds)].map(async (leadId) => {
        out.set(
          leadId,
          known.get(leadId) ?? (await leadSummary(leadId).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))),
        );
      }),
    );
    return out;
  }

  async function leadAssignedBatch(items: readonly BatchEvent<DistributionEventData<'LeadAssigned'>>[]): Promise<(NotifyResult | Error)[]> {
    const kind: EmailKind = 'lead_assigned';
    const results: (NotifyResult | Error | undefined)[] = items.map(() => undefined);
    const ids = items.map((item) => outboxId(kind, item.event.event_id));
    // A redelivery next to its original in one batch: the later one takes the earlier one's outcome.
    const firstOf = new Map<string, number>();
    ids.forEach((id, n) => void (firstOf.has(id) || firstOf.set(id, n)));
    const unique = [...firstOf.values()];

    // Which emails are recorded already, the directory facts of the others and the LeadApproved of the leads not
    // kept, in one statement; what is missing of the directory waits for it once (the recorded ones keep the
    // first read's answer).
    const providerIds = unique.map((n) => items[n]!.event.data.provider_id);
    const nicheIds = unique.map((n) => items[n]!.event.data.niche_id);
    const unread = deps.eventStoreSchema === undefined ? [] : [...new Set(unique.map((n) => items[n]!.event.data.lead_id))].filter((id) => !leadSummaries.has(id));
    let facts = await findBatchFacts(
      pool,
      [...firstOf.keys()],
      providerIds,
      nicheIds,
      deps.eventStoreSchema === undefined || unread.length === 0 ? undefined : { eventSchema: deps.eventStoreSchema, leadStreams: unread.map((id) => streams.lead(id)) },
    );
    const read = summariesRead(unread, facts.leadsApproved);
    const existing = facts.recorded;
    const toCompose = unique.filter((n) => !existing.has(ids[n]!));
    const complete = () => toCompose.every((n) => facts.providers.has(items[n]!.event.data.provider_id) && facts.niches.has(items[n]!.event.data.niche_id));
    if (!complete()) {
      await deps.directoryCaughtUp();
      facts = { ...(await findBatchFacts(pool, [], providerIds, nicheIds)), recorded: existing };
    }
    const leads = await leadSummariesOf(
      toCompose.map((n) => items[n]!.event.data.lead_id),
      read,
    );
    const records = new Map<string, NewOutboxEmail>();
    for (const n of toCompose) {
      const { event } = items[n]!;
      const d = event.data;
      const provider = facts.providers.get(d.provider_id);
      const nicheName = facts.niches.get(d.niche_id);
      const lead = leads.get(d.lead_id);
      if (!provider || nicheName === undefined) {
        results[n] = new MissingFactError(`provider ${d.provider_id} and niche ${d.niche_id} are not known (yet)`);
        continue;
      }
      if (lead instanceof Error || lead === undefined) {
        results[n] = lead ?? new MissingFactError(`lead ${d.lead_id} is not known (yet)`);
        continue;
      }
      try {
        const email = templates.render(kind, leadAssignedVariables({ provider, nicheName, levelName: d.level_name, priceCents: d.price_cents, assignedAt: d.assigned_at, lead }));
        records.set(ids[n]!, { id: ids[n]!, kind, sourceEventId: event.event_id, sourceStream: event.stream, recipient: provider.email, ...email, messageId: `<${ids[n]}@fairlead.notification>` });
      } catch (error) {
        results[n] = error instanceof Error ? error : new Error(String(error));
      }
    }

    const deliverable = unique.filter((n) => results[n] === undefined);
    const delivered = await deliverMany(
      pool,
      deliverable.map((n) => ({ id: ids[n]!, record: records.get(ids[n]!), final: items[n]!.attempt.attempt >= items[n]!.attempt.maxAttempts })),
      (row) => sender.send({ from: deps.from, to: row.recipient, subject: row.subject, text: row.text_body, html: row.html_body, messageId: row.message_id }),
      { isPermanent: isPermanentSmtpFailure, describe: describeSmtpFailure },
    );
    for (const n of deliverable) {
      const { event, attempt } = items[n]!;
      const outcome = delivered.get(ids[n]!)!;
      if (outcome.status === 'already_sent') {
        const source = existing.get(ids[n]!)?.source_event_id ?? event.event_id;
        if (source !== event.event_id) results[n] = 'grouped';
        else {
          metrics.duplicate(kind);
          results[n] = 'already_sent';
        }
      } else if (outcome.status === 'sent') {
        metrics.sent(kind);
        deps.logger.info({ outboxId: ids[n], kind, sourceEventId: event.event_id, attempts: outcome.attempts }, 'email sent');
        results[n] = 'sent';
      } else {
        const permanent = isPermanentSmtpFailure(outcome.error);
        if (attempt.attempt >= attempt.maxAttempts || permanent) metrics.failed(kind);
        else metrics.attemptFailed(kind);
        results[n] = permanent
          ? new PermanentError(`SMTP refused the email: ${describeSmtpFailure(outcome.error)}`, { cause: outcome.error, code: 'NOTIFICATION_SMTP_REFUSED' })
          : outcome.error instanceof Error
            ? outcome.error
            : new Error(String(outcome.error));
      }
    }
    return ids.map((id, n) => {
      const own = results[n];
      if (own !== undefined) return own;
      const first = results[firstOf.get(id)!]!;
      return first === 'sent' ? 'already_sent' : first;
    });
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
    leadAssignedBatch,
    leadAssigned: (event, attempt) =>
      sendOnce('lead_assigned', event, attempt, async () => {
        const d = event.data;
        // Provider and niche in one read; a miss of either waits for the directory once (lookup).
        const { provider, nicheName } = await lookup(`provider ${d.provider_id} and niche ${d.niche_id}`, async () => {
          const found = await findProviderAndNiche(pool, d.provider_id, d.niche_id);
          return found.provider && found.nicheName !== undefined ? { provider: found.provider, nicheName: found.nicheName } : undefined;
        });
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
