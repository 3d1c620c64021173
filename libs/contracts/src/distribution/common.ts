import { z } from 'zod';
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
  actor_id: z.string().min(1).max(200),
  actor_role: z.enum(['admin', 'operator', 'viewer', 'system']),
});
export type Actor = z.infer<typeof Actor>;

export const SYSTEM_ACTOR: Actor = Object.freeze({ actor_id: 'system', actor_role: 'system' });

export const ServiceArea = z
  .object({
    postal_codes: z.array(z.string().trim().min(3).max(12)).default([]),
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
  name: z.string(),
  order_position: OrderPosition,
  max_recipients: MaxRecipients,
  price_per_lead_cents: PriceCents,
});
export type LevelSnapshot = z.infer<typeof LevelSnapshot>;

export const SkipReason = z.enum(['insufficient_balance', 'duplicate', 'ineligible_area', 'status', 'daily_cap', 'monthly_cap', 'eligibility_error']);
export type SkipReason = z.infer<typeof SkipReason>;

export const DistributionOutcome = z.enum(['success', 'partial', 'no_eligible', 'failed']);
export type DistributionOutcome = z.infer<typeof DistributionOutcome>;
