/**
 * Who may receive a lead in one competition level, and in which order: the rules of
 * eligibility (status, service area, caps, one subscription per provider per lead) and
 * least-recently-served order. Pure: the caller passes the subscriptions and the clock.
 */
import type { ServiceArea, SkipReason, SubscriptionStatus } from '@fairlead/contracts';
import { utcDay, utcMonth } from './served';

// The served rule lives in served.ts; re-exported for the modules that read it with eligibility.
export { servedAt, utcDay, utcMonth } from './served';

/** Leads received through one subscription, as counted by `fairness.subscription_stats`. */
export interface ReceiptStats {
  /** When the subscription last received a lead; null when never served. */
  lastReceivedAt: Date | null;
  /** UTC day (`YYYY-MM-DD`) `dayCount` counts. */
  day: string | null;
  dayCount: number;
  /** UTC month (`YYYY-MM`) `monthCount` counts. */
  month: string | null;
  monthCount: number;
}

export const NEVER_SERVED: ReceiptStats = Object.freeze({ lastReceivedAt: null, day: null, dayCount: 0, month: null, monthCount: 0 });

export interface SubscriptionView {
  subscriptionId: string;
  providerId: string;
  levelId: string;
  status: SubscriptionStatus;
  serviceArea: ServiceArea;
  dailyCap: number | null;
  monthlyCap: number | null;
  stats: ReceiptStats;
}

export interface LeadLocation {
  postal_code: string;
  state: string;
}

export interface RankedCandidate {
  providerId: string;
  subscriptionId: string;
  lastReceivedAt: Date | null;
}

export interface Exclusion {
  providerId: string;
  subscriptionId: string;
  reason: SkipReason;
}

export interface LevelEvaluation {
  /** Eligible subscriptions, least recently served first, at most one per provider. */
  candidates: RankedCandidate[];
  excluded: Exclusion[];
}

// Postal codes compare without case or inner spaces ("sw1a 1aa" is "SW1A1AA").
const normalizePostal = (code: string): string => code.replace(/\s+/g, '').toUpperCase();

export function inServiceArea(area: ServiceArea, location: LeadLocation): boolean {
  const postal = normalizePostal(location.postal_code);
  const state = location.state.toUpperCase();
  return area.postal_codes.some((p) => normalizePostal(p) === postal) || area.states.some((s) => s.toUpperCase() === state);
}

/** Leads received today and this month (UTC), counting zero for a stale day or month. */
export function receivedIn(stats: ReceiptStats, now: Date): { today: number; thisMonth: number } {
  return {
    today: stats.day === utcDay(now) ? stats.dayCount : 0,
    thisMonth: stats.month === utcMonth(now) ? stats.monthCount : 0,
  };
}

/** Why a subscription may not take this lead regardless of the lead's other picks, or undefined. */
export function ineligibility(subscription: SubscriptionView, location: LeadLocation, now: Date): SkipReason | undefined {
  if (subscription.status !== 'active') return 'status';
  if (!inServiceArea(subscription.serviceArea, location)) return 'ineligible_area';
  const received = receivedIn(subscription.stats, now);
  if (subscription.dailyCap !== null && received.today >= subscription.dailyCap) return 'daily_cap';
  if (subscription.monthlyCap !== null && received.thisMonth >= subscription.monthlyCap) return 'monthly_cap';
  return undefined;
}

/**
 * Least recently served first: never served before any served, then the oldest
 * last_received_at, then provider id (and subscription id) so the order is total.
 */
export function compareLeastRecentlyServed(a: RankedCandidate, b: RankedCandidate): number {
  if (a.lastReceivedAt === null || b.lastReceivedAt === null) {
    if (a.lastReceivedAt !== b.lastReceivedAt) return a.lastReceivedAt === null ? -1 : 1;
  } else if (a.lastReceivedAt.getTime() !== b.lastReceivedAt.getTime()) {
    return a.lastReceivedAt.getTime() - b.lastReceivedAt.getTime();
  }
  if (a.providerId !== b.providerId) return a.providerId < b.providerId ? -1 : 1;
  if (a.subscriptionId !== b.subscriptionId) return a.subscriptionId < b.subscriptionId ? -1 : 1;
  return 0;
}

export interface EvaluateLevelInput {
  /** The level's subscriptions (any status). */
  subscriptions: readonly SubscriptionView[];
  location: LeadLocation;
  now: Date;
  /**
   * Providers this lead may not go to in this level whatever their subscription says, with
   * the reason to record: already assigned (or picked) in another level, declined by
   * billing in an earlier round of this level, or refused by billing altogether.
   */
  taken: ReadonlyMap<string, SkipReason>;
}

/** The eligible candidates of a level in least-recently-served order, and why the others are not. */
export function evaluateLevel({ subscriptions, location, now, taken }: EvaluateLevelInput): LevelEvaluation {
  const excluded: Exclusion[] = [];
  const eligible: RankedCandidate[] = [];
  for (const s of subscriptions) {
    // What this lead already did with the provider comes first: a provider billing declined may
    // meanwhile be paused for low balance, but "insufficient_balance" is why it has no lead.
    const reason = taken.get(s.providerId) ?? ineligibility(s, location, now);
    if (reason) excluded.push({ providerId: s.providerId, subscriptionId: s.subscriptionId, reason });
    else eligible.push({ providerId: s.providerId, subscriptionId: s.subscriptionId, lastReceivedAt: s.stats.lastReceivedAt });
  }
  eligible.sort(compareLeastRecentlyServed);
  // One subscription per provider per lead: the provider's least recently served one stands.
  const seen = new Set<string>();
  const candidates: RankedCandidate[] = [];
  for (const c of eligible) {
    if (seen.has(c.providerId)) excluded.push({ providerId: c.providerId, subscriptionId: c.subscriptionId, reason: 'duplicate_subscription' });
    else {
      seen.add(c.providerId);
      candidates.push(c);
    }
  }
  return { candidates, excluded };
}
