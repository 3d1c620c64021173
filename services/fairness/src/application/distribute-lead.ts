/**
 * The distribution work item: load the lead's stream, take the next step the decider
 * names, record it, repeat until the outcome is recorded. Every decision is appended
 * before it is acted on (picks before charges), so a crash anywhere resumes from the
 * stream: picks already made are charged (billing answers repeats with its first
 * decision) and recorded once (deterministic event ids), never chosen again.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { DistributionEventData } from '@fairlead/contracts';
import { isConcurrencyError, isEventIdConflictError, type PostgresEventStore } from '@fairlead/event-store';
import { PermanentError } from '@fairlead/messaging';
import { chargeRecord, completedEvent, nextStep, selectProviders, startedEvent, type ChargeRecord } from '../domain/distribution-decider';
import type { DistributionState, Pick } from '../domain/distribution-state';
import { eventIds } from '../domain/ids';
import { subscriptionsOfLevels } from '../projections/subscriptions/subscriptions.projection';
import { recordReceipt } from '../projections/subscription-stats/subscription-stats';
import { appendToLead, loadDistribution, type PendingEvent } from './lead-stream';
import { withNicheLock } from './niche-lock';
import type { BillingPort, RotationPort } from './ports';

export interface DistributeLeadDeps {
  pool: pg.Pool;
  store: PostgresEventStore;
  rotation: RotationPort;
  billing: BillingPort;
  clock: () => Date;
  logger: Logger;
  /** Re-reads after a concurrent write before the attempt gives up (default 10). */
  maxConflicts?: number;
  /** Longest wait for another instance holding the niche (default 30 s). */
  nicheLockWaitMs?: number;
}

export interface DistributeLeadInput {
  request: DistributionEventData<'DistributionRequested'>;
  /** This delivery of the work item, 1 on the first. */
  attempt: number;
}

/** A charge failed in a way that may pass (billing unreachable, timed out): the attempt is retried. */
export class ChargeFailedError extends Error {
  readonly code = 'FAIRNESS_CHARGE_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChargeFailedError';
  }
}

/** Runs the distribution of one lead to its outcome; returns the recorded DistributionCompleted. */
export async function distributeLead(deps: DistributeLeadDeps, input: DistributeLeadInput): Promise<DistributionEventData<'DistributionCompleted'>> {
  const { request } = input;
  const leadId = request.lead_id;
  const logger = deps.logger.child({ lead_id: leadId, niche_id: request.niche_id, request_id: request.request_id, attempt: input.attempt });
  const metadata = { request_id: request.request_id, attempt: input.attempt };
  const maxConflicts = deps.maxConflicts ?? 10;

  return withNicheLock(
    deps.pool,
    request.niche_id,
    async (client) => {
      let state = await loadDistribution(deps.store, leadId);
      let conflicts = 0;
      for (;;) {
        try {
          const step = nextStep(state);
          switch (step.kind) {
            case 'done':
              return step.completed;
            case 'not_approved':
              throw new PermanentError(`lead ${leadId} has no LeadApproved event: it cannot be distributed`, { code: 'FAIRNESS_LEAD_NOT_APPROVED' });
            case 'claim': {
              const claim = await deps.rotation.claimStartLevel(request.niche_id, leadId);
              const data = startedEvent(state, { requestId: request.request_id, attempt: input.attempt, ...claim, now: deps.clock() });
              state = (await appendToLead(deps.store, client, leadId, state, [{ id: eventIds.started(leadId), event: { type: 'DistributionStarted', data } }], metadata)).state;
              logger.debug({ start: claim.startOrderPosition, traversal: claim.traversal.map((l) => l.order_position) }, 'distribution started');
              break;
            }
            case 'select': {
              const subscriptions = await subscriptionsOfLevels(
                client,
                step.rounds.map((r) => r.level.level_id),
              );
              const selections = selectProviders(state, step.rounds, subscriptions, deps.clock());
              const events: PendingEvent[] = selections.map((data) => ({ id: eventIds.selected(leadId, data.level_id, data.round), event: { type: 'ProvidersSelected', data } }));
              state = (await appendToLead(deps.store, client, leadId, state, events, metadata)).state;
              break;
            }
            case 'charge':
              state = await chargePicks(deps, client, state, step.picks, metadata, logger);
              break;
            case 'complete': {
              const data = completedEvent(state, { requestId: request.request_id, attempt: input.attempt, now: deps.clock() });
              state = (await appendToLead(deps.store, client, leadId, state, [{ id: eventIds.completed(leadId), event: { type: 'DistributionCompleted', data } }], metadata)).state;
              logger.info({ outcome: data.outcome, assignments: data.assignments.length, skipped: data.skipped.length, duration_ms: data.duration_ms }, 'distribution completed');
              break;
            }
          }
        } catch (error) {
          if (!isConcurrencyError(error) && !isEventIdConflictError(error)) throw error;
          // Someone else wrote to the lead (an operator's new request, another instance): re-read, re-decide.
          if (++conflicts > maxConflicts) throw error;
          logger.debug({ conflicts }, 'lead stream changed under us; re-reading');
          state = await loadDistribution(deps.store, leadId);
        }
      }
    },
    { waitMs: deps.nicheLockWaitMs ?? 30_000 },
  );
}

/**
 * Charges the picks in parallel (different providers, different wallets) and records
 * every answer received in one transaction, together with the receipt stats of the new
 * assignments. Charges that failed to get an answer fail the attempt after the others are recorded.
 */
async function chargePicks(
  deps: DistributeLeadDeps,
  client: pg.PoolClient,
  state: DistributionState,
  picks: readonly Pick[],
  metadata: Record<string, unknown>,
  logger: Logger,
): Promise<DistributionState> {
  const leadId = state.lead!.lead_id;
  const answers = await Promise.allSettled(
    picks.map((pick) =>
      deps.billing.charge({ providerId: pick.providerId, leadId, subscriptionId: pick.subscriptionId, levelId: pick.levelId, amountCents: pick.priceCents }),
    ),
  );
  const now = deps.clock();
  const records: ChargeRecord[] = [];
  const failures: unknown[] = [];
  answers.forEach((answer, i) => {
    if (answer.status === 'fulfilled') records.push(chargeRecord(state, picks[i]!, answer.value, now));
    else failures.push(answer.reason);
  });

  let next = state;
  if (records.length > 0) {
    const events: PendingEvent[] = records.map((r) => ({
      id: r.type === 'LeadAssigned' ? eventIds.assigned(leadId, r.data.provider_id) : eventIds.skipped(leadId, r.data.provider_id),
      event: r,
    }));
    await client.query('begin');
    try {
      const result = await appendToLead(deps.store, client, leadId, state, events, metadata);
      // Stats move only with a LeadAssigned actually written: a re-append counts nothing twice.
      if (result.appended) for (const r of records) if (r.type === 'LeadAssigned') await recordReceipt(client, r.data);
      await client.query('commit');
      next = result.state;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    }
    for (const r of records) {
      if (r.type === 'LeadAssigned') logger.debug({ provider_id: r.data.provider_id, level_id: r.data.level_id, price_cents: r.data.price_cents }, 'lead assigned');
      else logger.info({ provider_id: r.data.provider_id, reason: r.data.reason }, 'provider skipped');
    }
  }
  if (failures.length > 0) {
    const first = failures[0];
    throw new ChargeFailedError(`${failures.length} of ${picks.length} charge(s) for lead ${leadId} got no answer: ${first instanceof Error ? first.message : String(first)}`, { cause: first });
  }
  return next;
}
