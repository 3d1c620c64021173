/**
 * What the distribution asks of other services, over NATS request/reply with the
 * contracts' schemas. Rotation claims the start level; billing charges a provider.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { billingCommands, rotationCommands, type CommandReply, type LevelSnapshot, type Subjects } from '@fairlead/contracts';
import { isNoRespondersError, isRemoteError, PermanentError, request, ReplyErrorCodes } from '@fairlead/messaging';
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
  /**
   * The charges of one lead (one per provider) at once, each as `charge` would decide it;
   * per request in order: billing's answer, or why none came (the attempt is then retried).
   */
  chargeAll(requests: readonly ChargeRequest[]): Promise<PromiseSettledResult<ChargeResult>[]>;
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

/** The most charges one charge_many request carries (its schema's limit). */
const CHARGE_MANY_MAX = 100;

/** Billing's refusals of one provider's charge that no retry can change: the slot goes to the next provider. */
const refusedForGood = (code: string) => code.endsWith('_NOT_FOUND') || code === ReplyErrorCodes.InvalidRequest;

export function natsBilling({ nc, subjects, timeoutMs }: NatsPortsOptions): BillingPort {
  const spec = billingCommands.charge;
  const many = billingCommands.charge_many;
  const charge: BillingPort['charge'] = async (r) => {
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
      if (isRemoteError(error) && refusedForGood(error.code)) return refused(error.code, error.message);
      throw error;
    }
    return resultOf(reply);
  };
  return {
    charge,
    chargeAll: async (requests) => {
      const first = requests[0];
      if (requests.length === 1 && first) return Promise.allSettled([charge(first)]);
      const leadId = first?.leadId;
      const oneLeadOncePerProvider = requests.every((r) => r.leadId === leadId) && new Set(requests.map((r) => r.providerId)).size === requests.length;
      if (!leadId || !oneLeadOncePerProvider || requests.length > CHARGE_MANY_MAX) {
        // Not what charge_many takes: one request per charge.
        return Promise.allSettled(requests.map(charge));
      }
      let reply: CommandReply<'billing', 'charge_many'>;
      try {
        // One request and one transaction at billing instead of one per provider.
        reply = await request(
          nc,
          subjects.command('billing', 'charge_many'),
          many.request.parse({
            lead_id: leadId,
            charges: requests.map((r) => ({ provider_id: r.providerId, subscription_id: r.subscriptionId, level_id: r.levelId, amount_cents: r.amountCents })),
          }),
          { responseSchema: many.reply, ...(timeoutMs ? { timeoutMs } : {}) },
        );
      } catch (error) {
        // A billing that does not serve charge_many yet (a rolling upgrade), or a request it
        // refuses as a whole: one request per charge, so each gets its own answer.
        if (isNoRespondersError(error) || (isRemoteError(error) && error.code === ReplyErrorCodes.InvalidRequest)) return Promise.allSettled(requests.map(charge));
        return requests.map(() => ({ status: 'rejected', reason: error }));
      }
      if (reply.results.length !== requests.length || reply.results.some((item, i) => item.provider_id !== requests[i]!.providerId)) {
        const error = new Error(`billing answered charge_many for lead ${leadId} with results that do not match the request`);
        return requests.map(() => ({ status: 'rejected', reason: error }));
      }
      return reply.results.map((item): PromiseSettledResult<ChargeResult> => {
        if ('error' in item) {
          if (refusedForGood(item.error.code)) return { status: 'fulfilled', value: refused(item.error.code, item.error.message) };
          return { status: 'rejected', reason: new Error(`billing could not charge ${item.provider_id}: ${item.error.code}: ${item.error.message}`) };
        }
        return { status: 'fulfilled', value: resultOf(item) };
      });
    },
  };
}

const refused = (code: string, message: string): ChargeResult => ({ charged: false, reason: 'eligibility_error', detail: `billing refused the charge: ${code}: ${message}` });

const resultOf = (reply: CommandReply<'billing', 'charge'>): ChargeResult =>
  reply.charged ? { charged: true, balance_after_cents: reply.balance_after_cents } : { charged: false, reason: reply.reason, balance_cents: reply.balance_cents };
