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
  /**
   * claimStartLevel for several leads of one niche in one request, claimed in the order
   * given; per lead, in order: its claim (null: no active level) or why it has none.
   * Throws when the whole request failed (unreachable, unknown niche).
   */
  claimStartLevels(nicheId: string, leadIds: readonly string[]): Promise<PromiseSettledResult<StartLevelClaim | null>[]>;
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
  /**
   * The charges of several leads (a batch of one niche), decided in the order given; once
   * a charge is declined, the charges of the leads after that lead are not attempted. Per
   * request, in order: billing's answer, `not_attempted`, or why no answer came.
   */
  chargeBatch(requests: readonly ChargeRequest[]): Promise<BatchChargeAnswer[]>;
}

export type BatchChargeAnswer = PromiseSettledResult<ChargeResult> | { status: 'not_attempted' };

export interface NatsPortsOptions {
  nc: NatsConnection;
  subjects: Subjects;
  /** How long to wait for rotation's and billing's replies (default 5000 ms). */
  timeoutMs?: number;
}

/** The most leads one claim_start_levels request carries (its schema's limit). */
const CLAIM_MANY_MAX = 500;

/** Rotation's refusal of a claim that no retry can change. */
const refusedClaim = (code: string, message: string, cause?: unknown): PermanentError =>
  new PermanentError(`rotation refused the claim: ${code}: ${message}`, { code, ...(cause ? { cause } : {}) });

/** Why one lead of claim_start_levels got no claim. */
const rotationRefusal = (code: string, message: string): Error =>
  PERMANENT_ROTATION_CODES.has(code) ? refusedClaim(code, message) : Object.assign(new Error(`rotation could not claim: ${code}: ${message}`), { code });

export function natsRotation({ nc, subjects, timeoutMs }: NatsPortsOptions): RotationPort {
  const spec = rotationCommands.claim_start_level;
  const many = rotationCommands.claim_start_levels;
  // One request per lead, one after another: the claims must follow the order given.
  const claimInTurn = async (nicheId: string, leadIds: readonly string[]) => {
    const settled: PromiseSettledResult<StartLevelClaim | null>[] = [];
    for (const leadId of leadIds) {
      settled.push(await port.claimStartLevel(nicheId, leadId).then((value) => ({ status: 'fulfilled' as const, value }), (reason: unknown) => ({ status: 'rejected' as const, reason })));
    }
    return settled;
  };
  const port: RotationPort = {
    claimStartLevels: async (nicheId, leadIds) => {
      if (leadIds.length === 1 || leadIds.length > CLAIM_MANY_MAX) return claimInTurn(nicheId, leadIds);
      let reply: CommandReply<'rotation', 'claim_start_levels'>;
      try {
        reply = await request(nc, subjects.command('rotation', 'claim_start_levels'), many.request.parse({ niche_id: nicheId, lead_ids: leadIds }), {
          responseSchema: many.reply,
          ...(timeoutMs ? { timeoutMs } : {}),
        });
      } catch (error) {
        // A rotation that does not serve the batch yet (a rolling upgrade): one request per lead, in order.
        if (isNoRespondersError(error)) return claimInTurn(nicheId, leadIds);
        if (isRemoteError(error) && PERMANENT_ROTATION_CODES.has(error.code)) throw refusedClaim(error.code, error.message, error);
        throw error;
      }
      if (reply.claims.length !== leadIds.length || reply.claims.some((c, i) => c.lead_id !== leadIds[i])) {
        throw new Error(`rotation answered claim_start_levels for niche ${nicheId} with claims that do not match the request`);
      }
      return reply.claims.map((c): PromiseSettledResult<StartLevelClaim | null> => {
        if ('error' in c) {
          if (c.error.code === 'NO_ACTIVE_LEVELS') return { status: 'fulfilled', value: null };
          return { status: 'rejected', reason: rotationRefusal(c.error.code, c.error.message) };
        }
        return { status: 'fulfilled', value: { startOrderPosition: c.start_order_position, traversal: c.traversal } };
      });
    },
    claimStartLevel: async (nicheId, leadId) => {
      let reply: CommandReply<'rotation', 'claim_start_level'>;
      try {
        reply = await request(nc, subjects.command('rotation', 'claim_start_level'), spec.request.parse({ niche_id: nicheId, lead_id: leadId }), {
          responseSchema: spec.reply,
          ...(timeoutMs ? { timeoutMs } : {}),
        });
      } catch (error) {
        if (isRemoteError(error) && error.code === 'NO_ACTIVE_LEVELS') return null;
        if (isRemoteError(error) && PERMANENT_ROTATION_CODES.has(error.code)) throw refusedClaim(error.code, error.message, error);
        throw error;
      }
      return { startOrderPosition: reply.start_order_position, traversal: reply.traversal };
    },
  };
  return port;
}

/** The most charges one charge_many request carries (its schema's limit). */
const CHARGE_MANY_MAX = 100;
/** The most charges one charge_batch request carries (its schema's limit). */
const CHARGE_BATCH_MAX = 2000;

/** Billing's refusals of one provider's charge that no retry can change: the slot goes to the next provider. */
const refusedForGood = (code: string) => code.endsWith('_NOT_FOUND') || code === ReplyErrorCodes.InvalidRequest;

export function natsBilling({ nc, subjects, timeoutMs }: NatsPortsOptions): BillingPort {
  const spec = billingCommands.charge;
  const many = billingCommands.charge_many;
  const batch = billingCommands.charge_batch;
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
  const chargeAll: BillingPort['chargeAll'] = async (requests) => {
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
      return reply.results.map((item) => settledCharge(item, item.provider_id));
  };

  // One lead's charges after another (chargeAll each), stopping after a lead with a decline.
  const chargeLeadByLead = async (requests: readonly ChargeRequest[]): Promise<BatchChargeAnswer[]> => {
    const answers: BatchChargeAnswer[] = [];
    let declined = false;
    for (const group of groupByLead(requests)) {
      if (declined) {
        answers.push(...group.map((): BatchChargeAnswer => ({ status: 'not_attempted' })));
        continue;
      }
      const settled = await chargeAll(group);
      answers.push(...settled);
      declined = settled.some((a) => a.status === 'fulfilled' && !a.value.charged && a.value.reason === 'insufficient_balance');
    }
    return answers;
  };

  const chargeBatch: BillingPort['chargeBatch'] = async (requests) => {
    if (requests.length === 0) return [];
    const leads = new Set(requests.map((r) => r.leadId));
    if (leads.size === 1 || requests.length > CHARGE_BATCH_MAX) return chargeLeadByLead(requests);
    let reply: CommandReply<'billing', 'charge_batch'>;
    try {
      reply = await request(
        nc,
        subjects.command('billing', 'charge_batch'),
        batch.request.parse({
          charges: requests.map((r) => ({ lead_id: r.leadId, provider_id: r.providerId, subscription_id: r.subscriptionId, level_id: r.levelId, amount_cents: r.amountCents })),
          stop_at_first_decline: true,
        }),
        { responseSchema: batch.reply, ...(timeoutMs ? { timeoutMs } : {}) },
      );
    } catch (error) {
      // A billing that does not serve charge_batch yet (a rolling upgrade): lead by lead.
      if (isNoRespondersError(error)) return chargeLeadByLead(requests);
      return requests.map(() => ({ status: 'rejected', reason: error }));
    }
    if (reply.results.length !== requests.length || reply.results.some((item, i) => item.provider_id !== requests[i]!.providerId || item.lead_id !== requests[i]!.leadId)) {
      const error = new Error('billing answered charge_batch with results that do not match the request');
      return requests.map(() => ({ status: 'rejected', reason: error }));
    }
    return reply.results.map((item): BatchChargeAnswer => ('not_attempted' in item ? { status: 'not_attempted' } : settledCharge(item, `${item.provider_id} for ${item.lead_id}`)));
  };

  return { charge, chargeAll, chargeBatch };
}

/** Consecutive requests of the same lead, in order. */
function groupByLead(requests: readonly ChargeRequest[]): ChargeRequest[][] {
  const groups: ChargeRequest[][] = [];
  for (const r of requests) {
    const last = groups.at(-1);
    if (last && last[0]!.leadId === r.leadId) last.push(r);
    else groups.push([r]);
  }
  return groups;
}

/**
 * One item of charge_many / charge_batch: billing's decision, a refusal no retry can change
 * (the slot goes to the next provider), or why no decision came (`who` names the charge).
 */
function settledCharge(item: CommandReply<'billing', 'charge'> | { error: { code: string; message: string } }, who: string): PromiseSettledResult<ChargeResult> {
  if ('error' in item) {
    if (refusedForGood(item.error.code)) return { status: 'fulfilled', value: refused(item.error.code, item.error.message) };
    return { status: 'rejected', reason: new Error(`billing could not charge ${who}: ${item.error.code}: ${item.error.message}`) };
  }
  return { status: 'fulfilled', value: resultOf(item) };
}

const refused = (code: string, message: string): ChargeResult => ({ charged: false, reason: 'eligibility_error', detail: `billing refused the charge: ${code}: ${message}` });

const resultOf = (reply: CommandReply<'billing', 'charge'>): ChargeResult =>
  reply.charged ? { charged: true, balance_after_cents: reply.balance_after_cents } : { charged: false, reason: reply.reason, balance_cents: reply.balance_cents };
