/**
 * The rotation pointer. A lead starts at the first ACTIVE level whose order_position is
 * at or after the pointer (wrapping to the first active level); the pointer then moves to
 * the next active position after that start (wrapping). The traversal is the circular
 * order of active levels from the start: with 3 levels, start 2 → 2, 3, 1. Claiming
 * leads one after another therefore yields 1, 2, 3, 1, 2, 3, … over the active levels,
 * and deactivating or adding a level changes the cycle from the next claim on.
 */
import type { LevelSnapshot } from '@fairlead/contracts';
import { NoActiveLevelsError } from './errors';
import { evolveNiche, type Level, type Niche, type NicheEvent } from './niche';

/** A lead's claim as stored (rotation.claims): the niche it was claimed in and its answer. */
export interface StoredClaim {
  niche_id: string;
  start_order_position: number;
  traversal: LevelSnapshot[];
}

export interface Claim {
  niche_id: string;
  lead_id: string;
  start_order_position: number;
  traversal: LevelSnapshot[];
}

const snapshot = (l: Level): LevelSnapshot => ({
  level_id: l.level_id,
  name: l.name,
  order_position: l.order_position,
  max_recipients: l.max_recipients,
  price_per_lead_cents: l.price_per_lead_cents,
});

/** The StartLevelClaimed event for the next lead of the niche. */
export function decideClaim(niche: Niche, leadId: string): Extract<NicheEvent, { type: 'StartLevelClaimed' }> {
  const active = niche.levels.filter((l) => l.active).sort((a, b) => a.order_position - b.order_position);
  if (active.length === 0) throw new NoActiveLevelsError(niche.niche_id);
  const found = active.findIndex((l) => l.order_position >= niche.next_start_order_position);
  const start = found === -1 ? 0 : found;
  const traversal = [...active.slice(start), ...active.slice(0, start)].map(snapshot);
  const next = active[(start + 1) % active.length]!;
  return {
    type: 'StartLevelClaimed',
    data: {
      niche_id: niche.niche_id,
      lead_id: leadId,
      start_order_position: active[start]!.order_position,
      next_start_order_position: next.order_position,
      traversal,
    },
  };
}

type StartLevelClaimed = Extract<NicheEvent, { type: 'StartLevelClaimed' }>;

/** One lead's part of a batch: its new claim, or why it has none. */
export type ClaimOutcome = { lead_id: string; claimed: StartLevelClaimed } | { lead_id: string; error: NoActiveLevelsError };

/**
 * decideClaim for each lead in order, each on the state the previous claims left, so a
 * batch advances the pointer exactly as the same claims made one by one would. Returns
 * the events to append (in order) and every lead's outcome.
 */
export function decideClaims(niche: Niche, leadIds: readonly string[]): { events: StartLevelClaimed[]; outcomes: ClaimOutcome[] } {
  const events: StartLevelClaimed[] = [];
  const outcomes: ClaimOutcome[] = [];
  let state = niche;
  for (const leadId of leadIds) {
    let claimed: StartLevelClaimed;
    try {
      claimed = decideClaim(state, leadId);
    } catch (error) {
      if (!(error instanceof NoActiveLevelsError)) throw error;
      outcomes.push({ lead_id: leadId, error });
      continue;
    }
    events.push(claimed);
    outcomes.push({ lead_id: leadId, claimed });
    state = evolveNiche(state, claimed, state.version + 1) ?? state;
  }
  return { events, outcomes };
}

/** The answer a claim gives, from its event. */
export function claimOf(event: Extract<NicheEvent, { type: 'StartLevelClaimed' }>): Claim {
  const { niche_id, lead_id, start_order_position, traversal } = event.data;
  return { niche_id, lead_id, start_order_position, traversal };
}
