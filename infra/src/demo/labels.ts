/**
 * What the demo prints for a provider who did not get a lead in a level: what happened,
 * in words (the skip reason of DistributionCompleted.skipped is the machine's version).
 */
import type { SkipReason } from '@fairlead/contracts';

export interface SkipContext {
  /** The level the provider got this lead in, when it got it elsewhere. */
  assignedIn?: string | undefined;
  /** The level's price, in cents. */
  priceCents?: number | undefined;
}

const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;

export function skipLabel(reason: SkipReason, context: SkipContext = {}): string {
  switch (reason) {
    case 'insufficient_balance':
      return context.priceCents === undefined ? 'declined: balance too low for this level' : `declined: balance below this level's ${dollars(context.priceCents)}`;
    case 'already_assigned':
      return context.assignedIn ? `already has this lead (${context.assignedIn})` : 'already has this lead in another level';
    case 'duplicate_subscription':
      return 'its other subscription in this level stands for it';
    case 'ineligible_area':
      return 'outside its service area';
    case 'status':
      return 'subscription not active';
    case 'daily_cap':
      return 'daily cap reached';
    case 'monthly_cap':
      return 'monthly cap reached';
    case 'eligibility_error':
      return 'billing cannot charge this provider';
    case 'duplicate':
      // Recorded before the reasons said what happened: picked or assigned in another level.
      return context.assignedIn ? `already has this lead (${context.assignedIn})` : 'passed over: taken in another level';
  }
}
