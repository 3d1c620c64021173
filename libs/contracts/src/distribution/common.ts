import { z } from 'zod';
import { SafeText } from '../safe-text';
import { MaxRecipients, OrderPosition, PriceCents } from '../limits';

/** Ids are opaque strings chosen by their creator (UUIDs by default); safe as NATS tokens and stream names. */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-" only');

export { Cents, PositiveCents, BalanceCents, PriceCents, TopUpCents, RefundCents, MaxRecipients, OrderPosition, Cap } from '../limits';
export const IsoTime = z.iso.datetime({ offset: true });

export const Actor = z.object({
  actor_id: SafeText.min(1).max(200),
  actor_role: z.enum(['admin', 'operator', 'viewer', 'system']),
});
export type Actor = z.infer<typeof Actor>;

export const SYSTEM_ACTOR: Actor = Object.freeze({ actor_id: 'system', actor_role: 'system' });

export const ServiceArea = z
  .object({
    postal_codes: z.array(SafeText.trim().min(3).max(12)).default([]),
    states: z
      .array(
        z
          .string()
          .regex(/^[A-Za-z]{2}$/, 'a two-letter state code')
          .transform((s) => s.toUpperCase()),
      )
      .default([]),
  })
  .refine((a) => a.postal_codes.length + a.states.length > 0, { message: 'a service area needs postal codes or states' });
export type ServiceArea = z.output<typeof ServiceArea>;

export const SubscriptionStatus = z.enum(['active', 'paused', 'paused_low_balance', 'cancelled']);
export type SubscriptionStatus = z.infer<typeof SubscriptionStatus>;

/** A competition level as the rotation hands it out in a traversal. */
export const LevelSnapshot = z.object({
  level_id: Id,
  name: SafeText,
  order_position: OrderPosition,
  max_recipients: MaxRecipients,
  price_per_lead_cents: PriceCents,
});
export type LevelSnapshot = z.infer<typeof LevelSnapshot>;

/**
 * Why a provider did not get a lead in a level — what happened, in the words of the
 * original plan where it has them:
 * - `insufficient_balance`: billing declined the charge at this level's price (an
 *   exclusion with this reason: declined in an earlier round of the same level);
 * - `already_assigned`: the lead already went to the provider (assigned, or picked and
 *   waiting for billing) in another level;
 * - `duplicate_subscription`: another subscription of the same provider in this level
 *   stands for it (one subscription per provider per lead);
 * - `ineligible_area`, `status`, `daily_cap`, `monthly_cap`: the subscription's own rules;
 * - `eligibility_error`: billing cannot charge the provider at all (e.g. no wallet).
 * `duplicate` is only read, never written: events recorded before these reasons used it for
 * both `already_assigned` and `duplicate_subscription` (and for a provider declined at an
 * earlier level, which is no longer excluded).
 */
export const SkipReason = z.enum([
  'insufficient_balance',
  'already_assigned',
  'duplicate_subscription',
  'ineligible_area',
  'status',
  'daily_cap',
  'monthly_cap',
  'eligibility_error',
  'duplicate',
]);
export type SkipReason = z.infer<typeof SkipReason>;

export const DistributionOutcome = z.enum(['success', 'partial', 'no_eligible', 'failed']);
export type DistributionOutcome = z.infer<typeof DistributionOutcome>;
