/**
 * Events of the distribution domain, as stored in the event store and relayed to NATS
 * (`fairlead.events.<category>.<Type>`). Each has a zod schema for its data; consumers
 * validate what they read. Streams: niche-<id>, provider-<id>, wallet-<providerId>,
 * subscription-<id>, lead-<id>.
 */
import { z } from 'zod';
import { LeadApprovedV1 } from '../lead-approved';
import { COUNT_LIMITS } from '../limits';
import { ProjectionEventParked, ProjectionRetryRequested } from '../operations';
import { Actor, BalanceCents, Cap, DistributionOutcome, Id, IsoTime, LevelSnapshot, MaxRecipients, OrderPosition, PriceCents, RefundCents, ServiceArea, SkipReason, SubscriptionStatus, TopUpCents } from './common';

// niche-<id> (owned by rotation)
export const NicheCreated = z.object({ niche_id: Id, name: z.string().min(1).max(200), auto_distribute: z.boolean(), actor: Actor });
export const NicheUpdated = z.object({ niche_id: Id, name: z.string().min(1).max(200).optional(), auto_distribute: z.boolean().optional(), actor: Actor });
export const CompetitionLevelAdded = LevelSnapshot.extend({ niche_id: Id, active: z.boolean(), actor: Actor });
export const CompetitionLevelUpdated = z.object({
  niche_id: Id,
  level_id: Id,
  name: z.string().min(1).max(200).optional(),
  max_recipients: MaxRecipients.optional(),
  price_per_lead_cents: PriceCents.optional(),
  active: z.boolean().optional(),
  actor: Actor,
});
/** The rotation pointer moved: this lead starts at `start_order_position`; the next lead at `next_start_order_position`. */
export const StartLevelClaimed = z.object({
  niche_id: Id,
  lead_id: Id,
  start_order_position: OrderPosition,
  next_start_order_position: OrderPosition,
  traversal: z.array(LevelSnapshot),
});

// provider-<id> and wallet-<providerId> (owned by billing)
export const ProviderRegistered = z.object({ provider_id: Id, name: z.string().min(1).max(200), email: z.email(), actor: Actor });
export const ProviderUpdated = z.object({ provider_id: Id, name: z.string().min(1).max(200).optional(), email: z.email().optional(), actor: Actor });
export const WalletToppedUp = z.object({ provider_id: Id, amount_cents: TopUpCents, balance_after_cents: BalanceCents, reference: z.string().max(200), actor: Actor });
export const WalletCharged = z.object({
  provider_id: Id,
  lead_id: Id,
  subscription_id: Id,
  level_id: Id,
  amount_cents: PriceCents,
  balance_after_cents: BalanceCents,
});
export const WalletChargeDeclined = z.object({
  provider_id: Id,
  lead_id: Id,
  subscription_id: Id,
  level_id: Id,
  amount_cents: PriceCents,
  balance_cents: BalanceCents,
  reason: z.literal('insufficient_balance'),
});
export const WalletRefunded = z.object({ provider_id: Id, lead_id: Id, amount_cents: RefundCents, balance_after_cents: BalanceCents, reason: z.string().max(500), actor: Actor });

// subscription-<id> (created by operators through fairness; low-balance status moved by billing)
export const SubscriptionCreated = z.object({
  subscription_id: Id,
  provider_id: Id,
  niche_id: Id,
  level_id: Id,
  service_area: ServiceArea,
  daily_cap: Cap.nullable(),
  monthly_cap: Cap.nullable(),
  status: SubscriptionStatus,
  actor: Actor,
});
export const SubscriptionChanged = z.object({
  subscription_id: Id,
  service_area: ServiceArea.optional(),
  daily_cap: Cap.nullable().optional(),
  monthly_cap: Cap.nullable().optional(),
  actor: Actor,
});
export const SubscriptionStatusChanged = z.object({
  subscription_id: Id,
  provider_id: Id,
  from: SubscriptionStatus,
  to: SubscriptionStatus,
  reason: z.string().max(500),
  actor: Actor,
});

// lead-<id> (intake appends approval and requests; fairness appends the decision)
export const LeadApproved = z.object({ lead: LeadApprovedV1, received_via: z.enum(['nats', 'http']) });
/**
 * What is kept of a payload too large, too deep or unstorable to keep whole: its size, its
 * SHA-256 (of the bytes received, or of its JSON) and the start of its text.
 */
export const PayloadSummary = z.object({
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  prefix: z.string().max(4096),
});
export const LeadRejected = z.object({
  lead_id: z.string().nullable(),
  niche_id: z.string().nullable(),
  reasons: z.array(z.string()).min(1),
  /** The payload as received when it is small enough to keep (intake: up to 16 KiB), else null and `payload_summary`. */
  payload: z.unknown(),
  payload_summary: PayloadSummary.optional(),
  received_via: z.enum(['nats', 'http']),
});
export const DistributionRequested = z.object({ lead_id: Id, niche_id: Id, request_id: Id, requested_by: Actor, requested_at: IsoTime });
export const DistributionStarted = z.object({
  lead_id: Id,
  niche_id: Id,
  request_id: Id,
  attempt: z.number().int().positive(),
  start_order_position: OrderPosition,
  traversal: z.array(LevelSnapshot),
  started_at: IsoTime,
});
export const Candidate = z.object({ provider_id: Id, subscription_id: Id, last_received_at: IsoTime.nullable() });
export const Exclusion = z.object({ provider_id: Id, subscription_id: Id, reason: SkipReason });
/**
 * One level's evaluation: the eligible candidates in least-recently-served order (with
 * their last_received_at at that moment), those excluded and why, and the picks to charge.
 * Recorded before charging so a crash resumes the same picks instead of choosing again.
 */
export const ProvidersSelected = z.object({
  lead_id: Id,
  level_id: Id,
  order_position: OrderPosition,
  round: z.number().int().min(0).max(COUNT_LIMITS.maxRounds),
  candidates: z.array(Candidate),
  excluded: z.array(Exclusion),
  picks: z.array(z.object({ provider_id: Id, subscription_id: Id, price_cents: PriceCents })),
});
/**
 * Picks recorded but never charged, taken back: the lead was decided in a batch after
 * assuming an earlier lead's charge would succeed, and billing declined that charge, so
 * the lead is decided again knowing of the decline (what one-at-a-time deciding would
 * have chosen). Billing never saw these picks.
 */
export const PicksWithdrawn = z.object({
  lead_id: Id,
  picks: z.array(z.object({ provider_id: Id, subscription_id: Id, level_id: Id })).min(1),
  reason: z.literal('earlier_charge_declined'),
});
export const LeadAssigned = z.object({
  assignment_id: Id,
  lead_id: Id,
  niche_id: Id,
  provider_id: Id,
  subscription_id: Id,
  level_id: Id,
  level_name: z.string(),
  order_position: OrderPosition,
  price_cents: PriceCents,
  balance_after_cents: BalanceCents,
  assigned_at: IsoTime,
});
export const ProviderSkipped = z.object({
  lead_id: Id,
  provider_id: Id,
  subscription_id: Id,
  level_id: Id,
  reason: SkipReason,
  detail: z.string().max(500),
});
export const DistributionCompleted = z.object({
  lead_id: Id,
  niche_id: Id,
  request_id: Id,
  outcome: DistributionOutcome,
  start_order_position: OrderPosition.nullable(),
  traversal: z.array(Id),
  assignments: z.array(z.object({ assignment_id: Id, provider_id: Id, subscription_id: Id, level_id: Id, price_cents: PriceCents })),
  skipped: z.array(z.object({ provider_id: Id, subscription_id: Id, level_id: Id, reason: SkipReason })),
  duration_ms: z.number().nonnegative(),
  attempt: z.number().int().positive(),
  completed_at: IsoTime,
});
/** A distribution attempt failed; `final` when it went to the dead-letter queue. */
export const DistributionFailed = z.object({
  lead_id: Id,
  niche_id: Id,
  request_id: Id,
  attempt: z.number().int().positive(),
  error: z.string().max(2000),
  final: z.boolean(),
  failed_at: IsoTime,
});

/** What an operator did with a dead letter (stream `deadletter-<seq>`): the facts the lead's status and the audit log follow. */
const DeadLetterAction = z.object({
  seq: z.number().int().positive(),
  original_subject: z.string().nullable(),
  /** The relayed event type the dead letter carried (e.g. DistributionRequested), when it carried one. */
  event_type: z.string().nullable(),
  lead_id: Id.nullable(),
  reason: z.string().nullable(),
  error: z.string().nullable(),
  actor: Actor,
  at: IsoTime,
});
/** Re-published to its original subject with a new msgID, and removed from the dead-letter queue. */
export const DeadLetterRedriven = DeadLetterAction.extend({ republished_to: z.string(), stream_seq: z.number().int().positive(), msg_id: z.string() });
/** Removed from the dead-letter queue without being re-published. */
export const DeadLetterDiscarded = DeadLetterAction;

export const DISTRIBUTION_EVENTS = {
  NicheCreated,
  NicheUpdated,
  CompetitionLevelAdded,
  CompetitionLevelUpdated,
  StartLevelClaimed,
  ProviderRegistered,
  ProviderUpdated,
  WalletToppedUp,
  WalletCharged,
  WalletChargeDeclined,
  WalletRefunded,
  SubscriptionCreated,
  SubscriptionChanged,
  SubscriptionStatusChanged,
  LeadApproved,
  LeadRejected,
  DistributionRequested,
  DistributionStarted,
  ProvidersSelected,
  PicksWithdrawn,
  LeadAssigned,
  ProviderSkipped,
  DistributionCompleted,
  DistributionFailed,
  DeadLetterRedriven,
  DeadLetterDiscarded,
  ProjectionRetryRequested,
  ProjectionEventParked,
} as const;

export type DistributionEventType = keyof typeof DISTRIBUTION_EVENTS;
export type DistributionEventData<T extends DistributionEventType> = z.output<(typeof DISTRIBUTION_EVENTS)[T]>;
/** A discriminated union of every distribution event as { type, data }. */
export type DistributionEvent = { [T in DistributionEventType]: { type: T; data: DistributionEventData<T> } }[DistributionEventType];

/** Validates an event's data against its schema; throws a ZodError with the reasons. */
export function parseDistributionEvent<T extends DistributionEventType>(type: T, data: unknown): DistributionEventData<T> {
  return DISTRIBUTION_EVENTS[type].parse(data) as DistributionEventData<T>;
}

export function isDistributionEventType(type: string): type is DistributionEventType {
  return Object.hasOwn(DISTRIBUTION_EVENTS, type);
}

export const streams = {
  niche: (id: string) => `niche-${id}`,
  provider: (id: string) => `provider-${id}`,
  wallet: (providerId: string) => `wallet-${providerId}`,
  subscription: (id: string) => `subscription-${id}`,
  lead: (id: string) => `lead-${id}`,
  /** Operators' actions on one dead letter, by its sequence in the dead-letter stream. */
  deadLetter: (seq: number) => `deadletter-${seq}`,
  /** Operators' decisions about one reader of the log (a projection or the relay) stalled on an event. */
  projection: (name: string) => `projection-${name}`,
} as const;
