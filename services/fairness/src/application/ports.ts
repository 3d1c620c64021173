/**
 * What the distribution asks of other services, over NATS request/reply with the
 * contracts' schemas. Rotation claims the start level; billing charges a provider.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { billingCommands, rotationCommands, type CommandReply, type LevelSnapshot, type Subjects } from '@fairlead/contracts';
import { isRemoteError, PermanentError, request, ReplyErrorCodes } from '@fairlead/messaging';
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
}

/** Rotation's refusals that no retry can change. */
const PERMANENT_ROTATION_CODES = new Set(['NICHE_NOT_FOUND', 'LEAD_CLAIMED_IN_OTHER_NICHE']);

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
}

export interface NatsPortsOptions {
  nc: NatsConnection;
  subjects: Subjects;
  /** How long to wait for rotation's and billing's replies (default 5000 ms). */
  timeoutMs?: number;
}

export function natsRotation({ nc, subjects, timeoutMs }: NatsPortsOptions): RotationPort {
  const spec = rotationCommands.claim_start_level;
  return {
    claimStartLevel: async (nicheId, leadId) => {
      let reply: CommandReply<'rotation', 'claim_start_level'>;
      try {
        reply = await request(nc, subjects.command('rotation', 'claim_start_level'), spec.request.parse({ niche_id: nicheId, lead_id: leadId }), {
          responseSchema: spec.reply,
          ...(timeoutMs ? { timeoutMs } : {}),
        });
      } catch (error) {
        if (isRemoteError(error) && error.code === 'NO_ACTIVE_LEVELS') return null;
        if (isRemoteError(error) && PERMANENT_ROTATION_CODES.has(error.code)) {
          throw new PermanentError(`rotation refused the claim: ${error.code}: ${error.message}`, { cause: error, code: error.code });
        }
        throw error;
      }
      return { startOrderPosition: reply.start_order_position, traversal: reply.traversal };
    },
  };
}

export function natsBilling({ nc, subjects, timeoutMs }: NatsPortsOptions): BillingPort {
  const spec = billingCommands.charge;
  return {
    charge: async (r) => {
      let reply: CommandReply<'billing', 'charge'>;
      try {
        reply = await request(
          nc,
          subjects.command('billing', 'charge'),
          spec.request.parse({ provider_id: r.providerId, lead_id: r.leadId, subscription_id: r.subscriptionId, level_id: r.levelId, amount_cents: r.amountCents }),
          { responseSchema: spec.reply, ...(timeoutMs ? { timeoutMs } : {}) },
        );
      } catch (error) {
        // Billing does not know this provider or wallet, or finds the request invalid: retrying
        // cannot help, so the slot goes to the next provider. Any other error is retried.
        if (isRemoteError(error) && (error.code.endsWith('_NOT_FOUND') || error.code === ReplyErrorCodes.InvalidRequest)) {
          return { charged: false, reason: 'eligibility_error', detail: `billing refused the charge: ${error.code}: ${error.message}` };
        }
        throw error;
      }
      return reply.charged
        ? { charged: true, balance_after_cents: reply.balance_after_cents }
        : { charged: false, reason: reply.reason, balance_cents: reply.balance_cents };
    },
  };
}
