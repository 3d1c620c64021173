/**
 * The emails this service sends and the variables each template may use. Pure: the
 * values come from events and read models, handed in by the application layer.
 */
import { createHash } from 'node:crypto';

export const EMAIL_KINDS = ['lead_assigned', 'low_balance'] as const;
export type EmailKind = (typeof EMAIL_KINDS)[number];

/** Variables each email's templates may use (documented in templates/README.md). */
export const TEMPLATE_VARIABLES: Readonly<Record<EmailKind, readonly string[]>> = Object.freeze({
  lead_assigned: [
    'provider_name',
    'niche_name',
    'level_name',
    'price_charged',
    'amount_charged',
    'lead_id',
    'lead_city',
    'lead_state',
    'lead_postal_code',
    'lead_location',
    'consumer_first_name',
    'assigned_at',
  ],
  low_balance: ['provider_name', 'subscriptions', 'niche_names', 'subscription_count', 'niche_name', 'level_name', 'subscription_id', 'paused_at'],
});

export interface ProviderFacts {
  name: string;
  email: string;
}

/** Only what a provider needs to recognise the lead: where, and whom to greet. */
export interface LeadSummary {
  lead_id: string;
  postal_code: string;
  state: string;
  city: string | undefined;
  consumer_first_name: string;
}

/** `1234567` cents → `12,345.67`. Integer arithmetic: no float rounding on money. */
export function formatDollars(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(cents));
  const whole = Math.floor(abs / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${whole}.${(abs % 100).toString().padStart(2, '0')}`;
}

/** The first word of a full name; the rest of the consumer's name stays out of the email. */
export function firstNameOf(fullName: string): string {
  return fullName.trim().split(/\s+/)[0] ?? '';
}

/** `Austin, TX 78701`, or `TX 78701` without a city. */
export function formatLocation(lead: Pick<LeadSummary, 'city' | 'state' | 'postal_code'>): string {
  const city = lead.city?.trim();
  return city ? `${city}, ${lead.state} ${lead.postal_code}` : `${lead.state} ${lead.postal_code}`;
}

export function leadAssignedVariables(input: {
  provider: ProviderFacts;
  nicheName: string;
  levelName: string;
  priceCents: number;
  assignedAt: string;
  lead: LeadSummary;
}): Record<string, string> {
  const price = formatDollars(input.priceCents);
  return {
    provider_name: input.provider.name,
    niche_name: input.nicheName,
    level_name: input.levelName,
    price_charged: price,
    amount_charged: `$${price}`,
    lead_id: input.lead.lead_id,
    lead_city: input.lead.city?.trim() ?? '',
    lead_state: input.lead.state,
    lead_postal_code: input.lead.postal_code,
    lead_location: formatLocation(input.lead),
    consumer_first_name: input.lead.consumer_first_name,
    assigned_at: input.assignedAt,
  };
}

/** One subscription paused for funds, as the email names it. */
export interface PausedSubscription {
  subscriptionId: string;
  nicheName: string;
  levelName: string;
}

/**
 * The low-balance email of one pause: every subscription of the provider that one balance
 * change paused, in one email. `subscriptions` names them all (`Solar (Silver), Roofing
 * (Gold)`); `niche_name`, `level_name` and `subscription_id` are the first one's (for
 * templates written for one subscription per email).
 */
export function lowBalanceVariables(input: { provider: ProviderFacts; paused: readonly PausedSubscription[]; pausedAt: string }): Record<string, string> {
  const first = input.paused[0];
  if (!first) throw new Error('a low-balance email names at least one paused subscription');
  return {
    provider_name: input.provider.name,
    subscriptions: input.paused.map((s) => `${s.nicheName} (${s.levelName})`).join(', '),
    niche_names: [...new Set(input.paused.map((s) => s.nicheName))].join(', '),
    subscription_count: String(input.paused.length),
    niche_name: first.nicheName,
    level_name: first.levelName,
    subscription_id: first.subscriptionId,
    paused_at: input.pausedAt,
  };
}

/**
 * What one low-balance email stands for: the provider and the transaction that paused its
 * subscriptions (billing moves all of a provider's subscriptions in the transaction of the
 * balance change, and the relay carries its id). Each of those events finds the same email.
 */
export function pauseGroupKey(providerId: string, transactionId: string | undefined, eventId: string): string {
  return transactionId === undefined ? eventId : `pause:${providerId}:${transactionId}`;
}

// A fixed namespace for notification outbox ids (a random v4, chosen once).
const NAMESPACE = Buffer.from('3b5d7f91c2e44a6b9d0f1e2a3b4c5d6e', 'hex');

/**
 * The outbox row of one email: UUID v5 of (kind, source event id). A redelivered event
 * finds the same row, so the email is recorded, and sent, once.
 */
export function outboxId(kind: EmailKind, sourceEventId: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(`${kind}:${sourceEventId}`, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
