/**
 * The distribution work items of one niche, decided together: the niche lock once, the
 * lead streams in one read, the start levels in one request to rotation, the niche's
 * subscriptions in one read, every decision buffered and written in one append, and the
 * picks of all the leads charged in one request to billing.
 *
 * The result is what deciding the leads one at a time would give (the least-recently-served
 * order is exact): the leads are decided in delivery order against one in-memory view of the
 * niche's subscriptions, each lead seeing the earlier leads' picks as served. Every pick gets
 * its own served time, strictly after every served time the view knows, so no two picks tie.
 * The view holds every pick already in the log, also those of leads outside the batch still
 * waiting for billing (fairness.pending_picks). It assumes the picks will be charged; billing
 * decides the charges in the same order and, at the first decline, stops before the next
 * lead. The leads after it take their picks back (PicksWithdrawn) and are decided again
 * knowing of the decline. A lead that leaves a level for after billing's answers (see
 * selectProviders) holds the later leads' selections back to the next pass likewise.
 *
 * Decisions are recorded before they are acted on (picks before charges), so a crash
 * anywhere resumes from the lead streams: picks already made are charged (billing answers
 * repeats with its first decision) and recorded once (deterministic event ids).
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { DistributionEventData } from '@fairlead/contracts';
import { isTooManyConflictsError, retryOnConflict } from '@fairlead/event-sourcing';
import type { PostgresEventStore } from '@fairlead/event-store';
import { PermanentError } from '@fairlead/messaging';
import { streams } from '@fairlead/contracts';
import { nextStep, selectProviders } from '../domain/distribution-decider';
import { distributionWorkflow, type DistributionInput, type DistributionOutput } from '../domain/distribution.workflow';
import { pickKey, type LeadEvent, type Pick } from '../domain/distribution-state';
import { eventIds } from '../domain/ids';
import type { StatsRead } from '../projections/subscription-stats/subscription-stats';
import { subscriptionsOfLevels, subscriptionsOfNiche } from '../projections/subscriptions/subscriptions.projection';
import type { SubscriptionView } from '../domain/eligibility';
import { flushWriters, foldLeadStream, LeadWriter, reloadWriters } from './lead-stream';
import { withNicheLock, type NicheLock } from './niche-lock';
import type { BillingPort, RotationPort } from './ports';
import { resumeServedTimes, ServedView } from './served-view';

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

/** One work item's result: its recorded outcome, or why this attempt failed. */
export type DistributeOutcome = { ok: true; completed: DistributionEventData<'DistributionCompleted'> } | { ok: false; error: unknown };

/** A charge failed in a way that may pass (billing unreachable, timed out): the attempt is retried. */
export class ChargeFailedError extends Error {
  readonly code = 'FAIRNESS_CHARGE_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChargeFailedError';
  }
}

/** One lead of the batch. */
interface LeadWork {
  writer: LeadWriter;
  input: DistributeLeadInput;
  logger: Logger;
  /** Each pick's served time (by pickKey), given when it was picked: its assignment's assigned_at. */
  servedAt: Map<string, Date>;
  completed?: DistributionEventData<'DistributionCompleted'>;
  error?: unknown;
}

const isOpen = (w: LeadWork) => w.completed === undefined && w.error === undefined;

/**
 * Runs the distributions of one niche's leads to their outcomes, in the order given.
 * Per input, in order: the recorded DistributionCompleted, or the error of this attempt
 * (a PermanentError when retrying cannot help). Throws when nothing could be decided at
 * all (the niche lock, the database); the leads that completed before stay completed.
 */
export async function distributeBatch(deps: DistributeLeadDeps, nicheId: string, inputs: readonly DistributeLeadInput[]): Promise<DistributeOutcome[]> {
  const maxConflicts = deps.maxConflicts ?? 10;
  // A lead requested twice in one batch is decided once; both requests get its outcome.
  const byLead = new Map<string, DistributeLeadInput>();
  for (const input of inputs) if (!byLead.has(input.request.lead_id)) byLead.set(input.request.lead_id, input);
  const readLeads = () => deps.store.readStreams([...byLead.keys()].map((id) => streams.lead(id)));
  // The lead streams are read while the lock is taken (one round trip less before the
  // claims). Read before the lock, they miss nothing of this process (its passes of a niche
  // run one after another); another process's last write before it let go of a free lock
  // can be missed, and is then found by the appends' version checks (re-read, re-decided).
  // When the lock had to be waited for, its holder just wrote: the streams are read again.
  const early = readLeads();
  early.catch(() => undefined);
  return withNicheLock(
    deps.pool,
    nicheId,
    async (client, lock) => {
      const read = lock.taken === 'free' ? await early : await readLeads();
      const work: LeadWork[] = [...byLead.entries()].map(([leadId, input]) => {
        const { request } = input;
        const writer = new LeadWriter(leadId, foldLeadStream(read.get(streams.lead(leadId)) ?? []), { request_id: request.request_id, attempt: input.attempt });
        const logger = deps.logger.child({ lead_id: leadId, niche_id: request.niche_id, request_id: request.request_id, attempt: input.attempt });
        const w: LeadWork = { writer, input, logger, servedAt: new Map() };
        const lead = writer.state.lead;
        if (request.niche_id !== nicheId || (lead && lead.niche_id !== nicheId)) {
          // The niche lock and order would be the wrong niche's: refuse rather than decide unserialized.
          w.error = new PermanentError(`request names niche ${request.niche_id}, but lead ${leadId} is in niche ${lead?.niche_id ?? nicheId}`, { code: 'FAIRNESS_NICHE_MISMATCH' });
        }
        return w;
      });
      await resumeServedTimes(client, work);

      // Someone else wrote to a lead (an operator's new request, another instance): re-read, re-decide.
      const rounds = () => until(() => !work.some(isOpen), () => decideRound(deps, client, lock, nicheId, work));
      await retryOnConflict(`the leads of niche ${nicheId}`, rounds, {
        maxConflicts,
        onConflict: async (_error, conflicts) => {
          deps.logger.debug({ niche_id: nicheId, conflicts }, 'a lead stream changed under us; re-reading');
          const open = work.filter(isOpen);
          await reloadWriters(
            deps.store,
            open.map((w) => w.writer),
          );
          await resumeServedTimes(client, open);
        },
      }).catch((error: unknown) => {
        if (!isTooManyConflictsError(error)) throw error;
        // The leads still open fail this attempt with the last conflict; the ones completed stay completed.
        for (const w of work.filter(isOpen)) w.error = error.cause;
      });
      return inputs.map((input): DistributeOutcome => {
        const w = work.find((x) => x.writer.leadId === input.request.lead_id)!;
        return w.completed ? { ok: true, completed: w.completed } : { ok: false, error: w.error };
      });
    },
    { waitMs: deps.nicheLockWaitMs ?? 30_000 },
  );
}

/** Runs `step` until `done` holds (checked before each step). */
async function until(done: () => boolean, step: () => Promise<void>): Promise<void> {
  while (!done()) await step();
}

/**
 * One pass over the open leads: claims, then each lead's next decisions in order until it
 * has picks to charge or its outcome, the write of all of them, then the charges. Leads
 * with declined or withdrawn picks come back in the next pass.
 */
async function decideRound(deps: DistributeLeadDeps, client: pg.PoolClient, lock: NicheLock, nicheId: string, work: LeadWork[]): Promise<void> {
  const open = () => work.filter(isOpen);
  for (const w of open()) settleFinished(w);
  if (open().length === 0) return;
  // The lock goes along with a pass's last write only; a round after it would decide unserialized.
  if (lock.handedOver) throw new Error(`the lock of niche ${nicheId} went with a write, but the pass goes on`);

  const toClaim = open().filter((w) => nextStep(w.writer.state).kind === 'claim');
  // While rotation answers, the niche's subscriptions are read on the lock's connection (one
  // round trip less per pass): nothing buffered moves the served view, so it is the read the
  // selections below would make after the claims — unless something does by then.
  const early = toClaim.length > 0 && !work.some((w) => w.writer.movesServedView) ? readEarly(client, nicheId) : undefined;
  if (toClaim.length > 0) {
    const claims = await deps.rotation.claimStartLevels(
      nicheId,
      toClaim.map((w) => w.writer.leadId),
    );
    toClaim.forEach((w, i) => {
      const answer = claims[i]!;
      if (answer.status === 'rejected') {
        w.error = answer.reason;
        return;
      }
      const { request, attempt } = w.input;
      // No active level (null): nobody can be eligible — the workflow records the outcome.
      record(w, { type: 'start_level_claimed', claim: answer.value, requestId: request.request_id, attempt, now: deps.clock() });
    });
  }

  // Selections read the niche's subscriptions once, after the assignments buffered so far are
  // written (their stats move in that transaction), and then see each earlier pick as served.
  // Buffered events that move no stats (a DistributionStarted) wait for the picks' write.
  const selecting = open().filter((w) => nextStep(w.writer.state).kind === 'select');
  let view: ServedView | undefined;
  // The stats rows as this read found them: the assignments' write below counts on them
  // (a row written since is found out by its version and the write done the slow way).
  const statsRead: StatsRead = new Map();
  if (selecting.length > 0) {
    const flushing = work.some((w) => w.writer.movesServedView);
    if (flushing) {
      await flushWriters(
        client,
        deps.store,
        work.map((w) => w.writer),
      );
    }
    const levelIds = [...new Set(selecting.flatMap((w) => w.writer.state.levels.map((l) => l.level.level_id)))];
    // The early read serves when it holds every level the leads go through (a level it lacks
    // may be one this service learns of only now, or one without subscriptions: read again).
    const read = early && !flushing ? await early : undefined;
    if (read && levelIds.every((id) => read.byLevel.has(id))) {
      for (const [id, row] of read.statsRead) statsRead.set(id, row);
      view = new ServedView(read.byLevel);
    } else {
      view = new ServedView(await subscriptionsOfLevels(client, levelIds, statsRead));
    }
  }

  const toCharge: { w: LeadWork; pick: Pick }[] = [];
  // Levels a lead left for after billing's answers wait for the leads after it too: one at a
  // time, they would be decided after it there. Their providers are reserved as well: a later
  // lead charging one of them first would spend money the earlier lead may still charge there.
  const waiting = new Set<string>();
  const reserved = (providerId: string) => [...waiting].some((levelId) => view?.byLevel.get(levelId)?.some((v) => v.providerId === providerId));
  for (const w of open()) {
    // A lead takes at most two steps here: a selection, then its charge (or its outcome when
    // nothing was left to pick); a third is never needed and the bound keeps the loop honest.
    for (let steps = 0; steps < 3 && isOpen(w); steps++) {
      const step = nextStep(w.writer.state);
      if (step.kind === 'select' && view) {
        const now = deps.clock();
        const selections = selectProviders(w.writer.state, step.rounds, view.byLevel, now, waiting);
        // A level found with nobody to pick is final (nothing to take back), but an earlier
        // lead's picks still wait for billing and a decline there could free a subscription a
        // cap kept out (the cap counted the pick). Both wait for the next pass, after billing.
        const capped = toCharge.length > 0 && selections.some(emptyForCaps);
        if (capped || selections.some((sel) => sel.picks.some((p) => reserved(p.provider_id)))) {
          for (const r of step.rounds) waiting.add(r.level.level_id);
          break;
        }
        for (const r of step.rounds.slice(selections.length)) waiting.add(r.level.level_id);
        if (selections.length === 0) break;
        w.writer.add(
          selections.map((data) => {
            // Each pick is served at its own time, in the order picked (the order of the log).
            const times = data.picks.map((p) => {
              const at = view.tick(now);
              view.served(p.subscription_id, at);
              w.servedAt.set(pickKey(p.provider_id, data.level_id), at);
              return at;
            });
            return { id: eventIds.selected(w.writer.leadId, data.level_id, data.round), event: { type: 'ProvidersSelected' as const, data }, servedAt: times };
          }),
        );
        continue;
      }
      if (step.kind === 'charge') toCharge.push(...step.picks.map((pick) => ({ w, pick })));
      else if (step.kind === 'complete') complete(deps, w);
      else settleFinished(w);
      break;
    }
  }

  // The picks are on record before anyone is charged for them; outcomes reached go with them.
  // With nothing to charge and every lead settled by it, this is the pass's last write.
  await flushWriters(
    client,
    deps.store,
    work.map((w) => w.writer),
    undefined,
    toCharge.length === 0 && work.every((w) => settledBy(w)) ? lock : undefined,
  );
  for (const w of open()) settleFinished(w);
  if (toCharge.length === 0) return;

  const answers = await deps.billing.chargeBatch(
    toCharge.map(({ w, pick }) => ({ providerId: pick.providerId, leadId: w.writer.leadId, subscriptionId: pick.subscriptionId, levelId: pick.levelId, amountCents: pick.priceCents })),
  );
  const withdrawn = new Map<LeadWork, Pick[]>();
  const unanswered = new Map<LeadWork, unknown[]>();
  toCharge.forEach(({ w, pick }, i) => {
    const answer = answers[i]!;
    if (answer.status === 'not_attempted') withdrawn.set(w, [...(withdrawn.get(w) ?? []), pick]);
    else if (answer.status === 'rejected') unanswered.set(w, [...(unanswered.get(w) ?? []), answer.reason]);
    else {
      // A pick recorded before its served time was (pending_picks did not exist yet) is served now.
      const at = w.servedAt.get(pickKey(pick.providerId, pick.levelId)) ?? deps.clock();
      const [event] = record(w, { type: 'charge_answered', pick, result: answer.value, servedAt: at });
      if (event?.type === 'ProviderSkipped') w.logger.info({ provider_id: event.data.provider_id, reason: event.data.reason, detail: event.data.detail }, 'provider skipped');
    }
  });
  // Decided assuming an earlier lead's declined charge would go through: decided again next pass.
  for (const [w, picks] of withdrawn) record(w, { type: 'earlier_charge_declined', picks });
  // A lead whose every level is now full or exhausted records its outcome with its
  // assignments: one write, not a pass of its own.
  for (const w of new Set(toCharge.map(({ w }) => w))) {
    if (!withdrawn.has(w) && !unanswered.has(w) && isOpen(w) && nextStep(w.writer.state).kind === 'complete') complete(deps, w);
  }
  // Keep what billing did answer; the rest is charged again on the lead's next attempt. With
  // every lead settled by it (its outcome recorded, or this attempt failed), the pass's last
  // write: the niche's lock goes with its commit (no unlock after it, one round trip less).
  await flushWriters(
    client,
    deps.store,
    work.map((w) => w.writer),
    statsRead,
    work.every((w) => settledBy(w, unanswered)) ? lock : undefined,
  );
  for (const [w, reasons] of unanswered) {
    const first = reasons[0];
    w.error = new ChargeFailedError(`${reasons.length} charge(s) for lead ${w.writer.leadId} got no answer: ${first instanceof Error ? first.message : String(first)}`, { cause: first });
  }
}

/** The niche's subscriptions read ahead (subscriptionsOfNiche); a failure surfaces only if the read is used. */
function readEarly(client: pg.PoolClient, nicheId: string): Promise<{ byLevel: Map<string, SubscriptionView[]>; statsRead: StatsRead }> {
  const statsRead: StatsRead = new Map();
  const read = subscriptionsOfNiche(client, nicheId, statsRead).then((byLevel) => ({ byLevel, statsRead }));
  read.catch(() => undefined);
  return read;
}

/** A round with nobody picked in which a cap kept someone out: what a declined pick could change. */
const emptyForCaps = (selection: DistributionEventData<'ProvidersSelected'>) =>
  selection.picks.length === 0 && selection.excluded.some((x) => x.reason === 'daily_cap' || x.reason === 'monthly_cap');

/**
 * Whether the lead needs no further round once its buffered events are written: settled
 * already, its outcome among them (or it cannot be distributed), or this attempt failing
 * for charges that got no answer.
 */
function settledBy(w: LeadWork, unanswered?: ReadonlyMap<LeadWork, unknown>): boolean {
  if (!isOpen(w) || unanswered?.has(w)) return true;
  const kind = nextStep(w.writer.state).kind;
  return kind === 'done' || kind === 'not_approved';
}

/** A lead whose stream already holds its outcome, or that cannot be distributed, is settled. */
function settleFinished(w: LeadWork): void {
  const step = nextStep(w.writer.state);
  if (step.kind === 'done') w.completed = step.completed;
  else if (step.kind === 'not_approved') {
    w.error = new PermanentError(`lead ${w.writer.leadId} has no LeadApproved event: it cannot be distributed`, { code: 'FAIRNESS_LEAD_NOT_APPROVED' });
  }
}

function complete(deps: DistributeLeadDeps, w: LeadWork): void {
  const { request, attempt } = w.input;
  const [event] = record(w, { type: 'finished', requestId: request.request_id, attempt, now: deps.clock() });
  if (event?.type !== 'DistributionCompleted') return;
  const data = event.data;
  w.logger.info({ outcome: data.outcome, assignments: data.assignments.length, skipped: data.skipped.length, duration_ms: data.duration_ms }, 'distribution completed');
}

/** Buffers in the lead's writer what the distribution workflow decides on `input` (written at the next flush). */
function record(w: LeadWork, input: DistributionInput): readonly DistributionOutput[] {
  const outputs = distributionWorkflow.decide(input, w.writer.state);
  w.writer.add(outputs.map(({ id, ...event }) => ({ id, event: event as LeadEvent })));
  return outputs;
}
