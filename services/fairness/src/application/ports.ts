/**
 * What the distribution asks of other services: rotation claims the start level, billing
 * charges a provider. Only the interfaces the application uses; the clients that answer
 * them over NATS request/reply are at the edge (nats/rotation-client.ts, nats/billing-client.ts).
 */
import type { LevelSnapshot } from '@fairlead/contracts';
import type { ChargeResult } from '../domain/distribution-decider';

export interface StartLevelClaim {
  startOrderPosition: number;
  traversal: LevelSnapshot[];
}

export interface RotationPort {
  /**
   * Idempotent per lead: the same lead always gets the same claim. Null when the niche has
   * no active level (nobody can be eligible). Throws PermanentError when the claim can never
   * succeed (unknown niche, lead claimed in another niche).
   */
  claimStartLevel(nicheId: string, leadId: string): Promise<StartLevelClaim | null>;
  /**
   * claimStartLevel for several leads of one niche in one request, claimed in the order
   * given; per lead, in order: its claim (null: no active level) or why it has none.
   * Throws when the whole request failed (unreachable, unknown niche).
   */
  claimStartLevels(nicheId: string, leadIds: readonly string[]): Promise<PromiseSettledResult<StartLevelClaim | null>[]>;
}

export interface ChargeRequest {
  providerId: string;
  leadId: string;
  subscriptionId: string;
  levelId: string;
  amountCents: number;
}

export interface BillingPort {
  /** Idempotent per (lead, provider): a repeat answers with the first decision. */
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /**
   * The charges of one lead (one per provider) at once, each as `charge` would decide it;
   * per request in order: billing's answer, or why none came (the attempt is then retried).
   */
  chargeAll(requests: readonly ChargeRequest[]): Promise<PromiseSettledResult<ChargeResult>[]>;
  /**
   * The charges of several leads (a batch of one niche), decided in the order given; once
   * a charge is declined, the charges of the leads after that lead are not attempted. Per
   * request, in order: billing's answer, `not_attempted`, or why no answer came.
   */
  chargeBatch(requests: readonly ChargeRequest[]): Promise<BatchChargeAnswer[]>;
}

export type BatchChargeAnswer = PromiseSettledResult<ChargeResult> | { status: 'not_attempted' };
