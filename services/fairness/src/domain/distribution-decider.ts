/**
 * What a lead's distribution does next, and the events that record each decision.
 * Pure: the handler supplies the rotation's claim, the subscriptions, billing's answers
 * and the clock, and appends what these functions return.
 */
import type { DistributionEventData, DistributionOutcome, LevelSnapshot, SkipReason } from '@fairlead/contracts';
import { evaluateLevel, type SubscriptionView } from './eligibility';
import type { DistributionState, Pick } from './distribution-state';
import { assignmentId } from './ids';

export interface LevelRound {
  level: LevelSnapshot;
  /** The round's number within the level (0 for the first selection). */
  round: number;
  /** Slots the round may fill: max_recipients − assigned so far. */
  slots: number;
}

export type NextStep =
  /** The distribution has its outcome; nothing is left to do. */
  | { kind: 'done'; completed: DistributionEventData<'DistributionCompleted'> }
  /** The stream holds no approved lead: distributing is impossible. */
  | { kind: 'not_approved' }
  /** Ask rotation for the start level and traversal, then record DistributionStarted. */
  | { kind: 'claim' }
  /** Charge picks recorded earlier (resuming after a crash re-charges idempotently). */
  | { kind: 'charge'; picks: Pick[] }
  /** Choose providers for the levels that have open slots and candidates left. */
  | { kind: 'select'; rounds: LevelRound[] }
  /** Every level is full or exhausted: record the outcome. */
  | { kind: 'complete'; outcome: DistributionOutcome };

export function nextStep(state: DistributionState): NextStep {
  if (state.completed) return { kind: 'done', completed: state.completed };
  if (!state.lead) return { kind: 'not_approved' };
  if (!state.started) return { kind: 'claim' };
  const pending = [...state.picks.values()].filter((p) => p.status === 'pending');
  if (pending.length > 0) return { kind: 'charge', picks: pending };
  const rounds: LevelRound[] = state.levels
    .filter((l) => !l.exhausted && l.assigned < l.level.max_recipients)
    .map((l) => ({ level: l.level, round: l.rounds, slots: l.level.max_recipients - l.assigned }));
  if (rounds.length > 0) return { kind: 'select', rounds };
  return { kind: 'complete', outcome: outcomeOf(state) };
}

/**
 * success: assignments and no declined charge; partial: assignments and a declined charge;
 * no_eligible: nobody was eligible in any level; failed: eligible providers, none charged.
 */
export function outcomeOf(state: DistributionState): DistributionOutcome {
  const declined = [...state.picks.values()].some((p) => p.status === 'declined');
  if (state.assignments.length > 0) return declined ? 'partial' : 'success';
  return state.sawCandidates ? 'failed' : 'no_eligible';
}

export interface StartInput {
  requestId: string;
  attempt: number;
  startOrderPosition: number;
  traversal: LevelSnapshot[];
  now: Date;
}

export function startedEvent(state: DistributionState, input: StartInput): DistributionEventData<'DistributionStarted'> {
  const lead = requireLead(state);
  return {
    lead_id: lead.lead_id,
    niche_id: lead.niche_id,
    request_id: input.requestId,
    attempt: input.attempt,
    start_order_position: input.startOrderPosition,
    traversal: input.traversal,
    started_at: input.now.toISOString(),
  };
}

/**
 * Who this lead may not go to in a level whatever their subscription says, and why:
 * providers it already went to (assigned, or picked and waiting for billing) in any level;
 * providers billing refused altogether; providers billing declined in an earlier round of
 * this very level. A provider declined in another level is a candidate here: a provider who
 * cannot afford Gold may afford Bronze.
 */
export function exclusionsAt(state: DistributionState, levelId: string): Map<string, SkipReason> {
  const rank: Partial<Record<SkipReason, number>> = { already_assigned: 3, eligibility_error: 2, insufficient_balance: 1 };
  const taken = new Map<string, SkipReason>();
  const keep = (providerId: string, reason: SkipReason) => {
    const current = taken.get(providerId);
    if (!current || (rank[reason] ?? 0) > (rank[current] ?? 0)) taken.set(providerId, reason);
  };
  for (const pick of state.picks.values()) {
    if (pick.status !== 'declined') keep(pick.providerId, 'already_assigned');
    else if (pick.declineReason === 'eligibility_error') keep(pick.providerId, 'eligibility_error');
    else if (pick.levelId === levelId) keep(pick.providerId, pick.declineReason ?? 'insufficient_balance');
  }
  return taken;
}

/**
 * One ProvidersSelected per level decided now, in traversal order, as if the levels were
 * decided one after the other with billing's answers in between (the original plan):
 * a provider picked in an earlier level is excluded (`already_assigned`). A level whose
 * picks could still change with billing's answers for the picks above it — one provider it
 * would pick is a candidate of an earlier level that picked in this step (declined there,
 * a pick is a candidate here; a backfill there may take a candidate) — is not decided now,
 * and neither are the levels after it: the caller charges first and asks again. (A level
 * decided now while a provider it excludes waits for billing above stays open for another
 * round: see evolveDistribution's `exhausted`.) The first
 * level always is decided (unless `waiting` names it), so a lead alone always makes
 * progress. Fewer selections than rounds means the rest waits.
 *
 * `waiting`: levels an earlier lead of the same batch left for later. Deciding them now
 * would serve this lead before that one; this lead stops there too.
 */
export function selectProviders(
  state: DistributionState,
  rounds: readonly LevelRound[],
  subscriptionsByLevel: ReadonlyMap<string, readonly SubscriptionView[]>,
  now: Date,
  waiting: ReadonlySet<string> = new Set(),
): DistributionEventData<'ProvidersSelected'>[] {
  const lead = requireLead(state);
  const pickedNow = new Set<string>();
  const contested = new Set<string>();
  const selections: DistributionEventData<'ProvidersSelected'>[] = [];
  for (const { level, round, slots } of rounds) {
    if (waiting.has(level.level_id)) break;
    const subscriptions = subscriptionsByLevel.get(level.level_id) ?? [];
    const taken = exclusionsAt(state, level.level_id);
    if (contested.size > 0) {
      // Whatever billing answers above, this level picks the same unless a provider it would
      // pick (with the picks above still open) is one billing's answers may move.
      const open = evaluateLevel({ subscriptions, location: lead.location, now, taken }).candidates.slice(0, slots);
      if (open.some((c) => contested.has(c.providerId))) break;
    }
    for (const providerId of pickedNow) taken.set(providerId, 'already_assigned');
    const { candidates, excluded } = evaluateLevel({ subscriptions, location: lead.location, now, taken });
    const picks = candidates.slice(0, slots);
    if (picks.length > 0) for (const c of candidates) contested.add(c.providerId);
    for (const p of picks) pickedNow.add(p.providerId);
    selections.push({
      lead_id: lead.lead_id,
      level_id: level.level_id,
      order_position: level.order_position,
      round,
      candidates: candidates.map((c) => ({ provider_id: c.providerId, subscription_id: c.subscriptionId, last_received_at: c.lastReceivedAt?.toISOString() ?? null })),
      excluded: excluded.map((x) => ({ provider_id: x.providerId, subscription_id: x.subscriptionId, reason: x.reason })),
      picks: picks.map((p) => ({ provider_id: p.providerId, subscription_id: p.subscriptionId, price_cents: level.price_per_lead_cents })),
    });
  }
  return selections;
}

/** Billing's answer to a charge (the `billing.charge` reply). */
export type ChargeResult =
  | { charged: true; balance_after_cents: number }
  | { charged: false; reason: 'insufficient_balance'; balance_cents: number }
  /** Billing refused this provider for a reason retrying cannot fix (e.g. no wallet). */
  | { charged: false; reason: 'eligibility_error'; detail: string };

export type ChargeRecord =
  | { type: 'LeadAssigned'; data: DistributionEventData<'LeadAssigned'> }
  | { type: 'ProviderSkipped'; data: DistributionEventData<'ProviderSkipped'> };

/**
 * The event recording billing's answer for one pick. `servedAt` is the pick's place in the
 * served order (given when it was picked): the assignment's `assigned_at`, so the
 * subscription's last_received_at orders it exactly where it was decided.
 */
export function chargeRecord(state: DistributionState, pick: Pick, result: ChargeResult, servedAt: Date): ChargeRecord {
  const lead = requireLead(state);
  const level = state.levels.find((l) => l.level.level_id === pick.levelId)?.level;
  if (!level) throw new Error(`pick of provider ${pick.providerId} names level ${pick.levelId}, which is not in the traversal`);
  if (result.charged) {
    return {
      type: 'LeadAssigned',
      data: {
        assignment_id: assignmentId(lead.lead_id, pick.providerId),
        lead_id: lead.lead_id,
        niche_id: lead.niche_id,
        provider_id: pick.providerId,
        subscription_id: pick.subscriptionId,
        level_id: level.level_id,
        level_name: level.name,
        order_position: level.order_position,
        price_cents: pick.priceCents,
        balance_after_cents: result.balance_after_cents,
        assigned_at: servedAt.toISOString(),
      },
    };
  }
  return {
    type: 'ProviderSkipped',
    data: {
      lead_id: lead.lead_id,
      provider_id: pick.providerId,
      subscription_id: pick.subscriptionId,
      level_id: level.level_id,
      reason: result.reason,
      detail: result.reason === 'insufficient_balance' ? `balance ${result.balance_cents} cents is below the price of ${pick.priceCents} cents` : result.detail.slice(0, 500),
    },
  };
}

export interface CompleteInput {
  requestId: string;
  /** Attempts this distribution took (failed attempts recorded in the stream + this one, at least). */
  attempt: number;
  now: Date;
}

export function completedEvent(state: DistributionState, input: CompleteInput): DistributionEventData<'DistributionCompleted'> {
  const lead = requireLead(state);
  const assignedSubscriptions = new Set(state.assignments.map((a) => a.subscription_id));
  const startedAt = state.started ? Date.parse(state.started.started_at) : input.now.getTime();
  return {
    lead_id: lead.lead_id,
    niche_id: lead.niche_id,
    request_id: input.requestId,
    outcome: outcomeOf(state),
    start_order_position: state.started?.start_order_position ?? null,
    traversal: state.levels.map((l) => l.level.level_id),
    assignments: state.assignments.map((a) => ({
      assignment_id: a.assignment_id,
      provider_id: a.provider_id,
      subscription_id: a.subscription_id,
      level_id: a.level_id,
      price_cents: a.price_cents,
    })),
    skipped: [...state.skipped.values()].filter((s) => !assignedSubscriptions.has(s.subscription_id)),
    duration_ms: Math.max(0, input.now.getTime() - startedAt),
    attempt: Math.max(input.attempt, state.failures + 1),
    completed_at: input.now.toISOString(),
  };
}

export interface FailedInput {
  requestId: string;
  attempt: number;
  error: string;
  final: boolean;
  now: Date;
}

export function failedEvent(leadId: string, nicheId: string, input: FailedInput): DistributionEventData<'DistributionFailed'> {
  return {
    lead_id: leadId,
    niche_id: nicheId,
    request_id: input.requestId,
    attempt: input.attempt,
    error: input.error.slice(0, 2000),
    final: input.final,
    failed_at: input.now.toISOString(),
  };
}

function requireLead(state: DistributionState) {
  if (!state.lead) throw new Error('the lead stream holds no approved lead');
  return state.lead;
}
