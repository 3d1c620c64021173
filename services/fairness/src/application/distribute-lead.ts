/**
 * The distribution work item: load the lead's stream, take the next step the decider
 * names, record it, repeat until the outcome is recorded. Decisions are recorded before
 * they are acted on (picks before charges), so a crash anywhere resumes from the stream:
 * picks already made are charged (billing answers repeats with its first decision) and
 * recorded once (deterministic event ids), never chosen again.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { DistributionEventData } from '@fairlead/contracts';
import { isConcurrencyError, isEventIdConflictError, type PostgresEventStore } from '@fairlead/event-store';
import { PermanentError } from '@fairlead/messaging';
import { chargeRecord, completedEvent, nextStep, selectProviders, startedEvent, type ChargeRecord } from '../domain/distribution-decider';
import type { Pick } from '../domain/distribution-state';
import { eventIds } from '../domain/ids';
import { subscriptionsOfLevels } from '../projections/subscriptions/subscriptions.projection';
import { LeadWriter, loadDistribution } from './lead-stream';
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
  const maxConflicts = deps.maxConflicts ?? 10;

  return withNicheLock(
    deps.pool,
    request.niche_id,
    async (client) => {
      const writer = new LeadWriter(deps.store, leadId, await loadDistribution(deps.store, leadId), { request_id: request.request_id, attempt: input.attempt });
      const lead = writer.state.lead;
      if (lead && lead.niche_id !== request.niche_id) {
        // The niche lock and order would be the wrong niche's: refuse rather than decide unserialized.
        throw new PermanentError(`request names niche ${request.niche_id}, but lead ${leadId} is in niche ${lead.niche_id}`, { code: 'FAIRNESS_NICHE_MISMATCH' });
      }
      let conflicts = 0;
      for (;;) {
        try {
          const step = nextStep(writer.state);
          switch (step.kind) {
            case 'done':
              return step.completed;
            case 'not_approved':
              throw new PermanentError(`lead ${leadId} has no LeadApproved event: it cannot be distributed`, { code: 'FAIRNESS_LEAD_NOT_APPROVED' });
            case 'claim': {
              const claim = await deps.rotation.claimStartLevel(request.niche_id, leadId);
              if (!claim) {
                // No active level: nobody can be eligible. An outcome, not an error.
                const data = completedEvent(writer.state, { requestId: request.request_id, attempt: input.attempt, now: deps.clock() });
                writer.add([{ id: eventIds.completed(leadId), event: { type: 'DistributionCompleted', data } }]);
                await writer.flush(client);
                logger.info({ outcome: data.outcome }, 'distribution completed: the niche has no active level');
                break;
              }
              const data = startedEvent(writer.state, { requestId: request.request_id, attempt: input.attempt, ...claim, now: deps.clock() });
              writer.add([{ id: eventIds.started(leadId), event: { type: 'DistributionStarted', data } }]);
              break;
            }
            case 'select': {
              // Subscriptions and stats are read on the lock's connection: the niche's last assignments are committed there.
              const subscriptions = await subscriptionsOfLevels(
                client,
                step.rounds.map((r) => r.level.level_id),
              );
              const selections = selectProviders(writer.state, step.rounds, subscriptions, deps.clock());
              writer.add(selections.map((data) => ({ id: eventIds.selected(leadId, data.level_id, data.round), event: { type: 'ProvidersSelected', data } })));
              break;
            }
            case 'charge':
              // The picks are on record before anyone is charged for them.
              await writer.flush(client);
              await chargePicks(deps, writer, step.picks, logger);
              break;
            case 'complete': {
              const data = completedEvent(writer.state, { requestId: request.request_id, attempt: input.attempt, now: deps.clock() });
              writer.add([{ id: eventIds.completed(leadId), event: { type: 'DistributionCompleted', data } }]);
              await writer.flush(client);
              logger.info({ outcome: data.outcome, assignments: data.assignments.length, skipped: data.skipped.length, duration_ms: data.duration_ms }, 'distribution completed');
              break;
            }
          }
        } catch (error) {
          if (error instanceof ChargeFailedError) {
            // Keep what billing did answer; the rest is charged again on the next attempt.
            await writer.flush(client).catch((flushError: unknown) => logger.warn({ err: flushError }, 'could not record the charges answered'));
            throw error;
          }
          if (!isConcurrencyError(error) && !isEventIdConflictError(error)) throw error;
          // Someone else wrote to the lead (an operator's new request, another instance): re-read, re-decide.
          if (++conflicts > maxConflicts) throw error;
          logger.debug({ conflicts }, 'lead stream changed under us; re-reading');
          await writer.reload();
        }
      }
    },
    { waitMs: deps.nicheLockWaitMs ?? 30_000 },
  );
}

/**
 * Charges the picks together (different providers, different wallets: one request to
 * billing) and buffers every answer received; charges that got no answer fail the attempt
 * (ChargeFailedError).
 */
async function chargePicks(deps: DistributeLeadDeps, writer: LeadWriter, picks: readonly Pick[], logger: Logger): Promise<void> {
  const state = writer.state;
  const leadId = state.lead!.lead_id;
  const answers = await deps.billing.chargeAll(
    picks.map((pick) => ({ providerId: pick.providerId, leadId, subscriptionId: pick.subscriptionId, levelId: pick.levelId, amountCents: pick.priceCents })),
  );
  const now = deps.clock();
  const records: ChargeRecord[] = [];
  const failures: unknown[] = [];
  answers.forEach((answer, i) => {
    if (answer.status === 'fulfilled') records.push(chargeRecord(state, picks[i]!, answer.value, now));
    else failures.push(answer.reason);
  });
  writer.add(
    records.map((r) => ({
      id: r.type === 'LeadAssigned' ? eventIds.assigned(leadId, r.data.provider_id) : eventIds.skipped(leadId, r.data.provider_id),
      event: r,
    })),
  );
  for (const r of records) {
    if (r.type === 'ProviderSkipped') logger.info({ provider_id: r.data.provider_id, reason: r.data.reason, detail: r.data.detail }, 'provider skipped');
  }
  if (failures.length > 0) {
    const first = failures[0];
    throw new ChargeFailedError(`${failures.length} of ${picks.length} charge(s) for lead ${leadId} got no answer: ${first instanceof Error ? first.message : String(first)}`, {
      cause: first,
    });
  }
}
