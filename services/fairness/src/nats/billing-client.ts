/**
 * The BillingPort over NATS request/reply (contracts' billingCommands). A refusal is read by
 * what it means — its status (the error catalogue) — never by how its code is spelled.
 */
import { billingCommands, statusOfCode, type CommandReply } from '@fairlead/contracts';
import { isNoRespondersError, isRemoteError, request } from '@fairlead/messaging';
import type { BatchChargeAnswer, BillingPort, ChargeRequest } from '../application/ports';
import type { ChargeResult } from '../domain/distribution-decider';
import type { NatsPortsOptions } from './ports-options';

/** The most charges one charge_many request carries (its schema's limit). */
const CHARGE_MANY_MAX = 100;
/** The most charges one charge_batch request carries (its schema's limit). */
const CHARGE_BATCH_MAX = 2000;

/** Billing's refusals of one provider's charge that no retry can change: the slot goes to the next provider. */
const refusedForGood = (status: number) => status === 404 || status === 400;

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
      if (isRemoteError(error) && refusedForGood(error.status)) return refused(error.code, error.message);
      throw error;
    }
    return resultOf(reply);
  };
  const chargeAll: BillingPort['chargeAll'] = async (requests) => {
      // Even a lead's one charge goes as charge_many: billing decides a batch in two statements,
      // a single charge in a transaction of its own (about six).
      const leadId = requests[0]?.leadId;
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
        if (isNoRespondersError(error) || (isRemoteError(error) && error.status === 400)) return Promise.allSettled(requests.map(charge));
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
    // An item's error carries its code only: the catalogue gives its status.
    if (refusedForGood(statusOfCode(item.error.code))) return { status: 'fulfilled', value: refused(item.error.code, item.error.message) };
    return { status: 'rejected', reason: new Error(`billing could not charge ${who}: ${item.error.code}: ${item.error.message}`) };
  }
  return { status: 'fulfilled', value: resultOf(item) };
}

const refused = (code: string, message: string): ChargeResult => ({ charged: false, reason: 'eligibility_error', detail: `billing refused the charge: ${code}: ${message}` });

const resultOf = (reply: CommandReply<'billing', 'charge'>): ChargeResult =>
  reply.charged ? { charged: true, balance_after_cents: reply.balance_after_cents } : { charged: false, reason: reply.reason, balance_cents: reply.balance_cents };
