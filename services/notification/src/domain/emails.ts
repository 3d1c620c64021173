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
  low_balance: ['provider_name', 'niche_name', 'level_name', 'subscription_id', 'paused_at'],
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

export function lowBalanceVariables(input: {
  provider: ProviderFacts;
  nicheName: string;
  levelName: string;
  subscriptionId: string;
  pausedAt: string;
}): Record<string, string> {
  return {
    provider_name: input.provider.name,
    niche_name: input.nicheName,
    level_name: input.levelName,
    subscription_id: input.subscriptionId,
    paused_at: input.pausedAt,
  };
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
