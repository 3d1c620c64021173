/**
 * The niche aggregate as one Decider (`niche-<id>`): configuration (niche.ts) and the
 * start-level claims (claim.ts) decided on the niche and on the claims already stored for
 * the leads a claim names (rotation.claims, any niche's: a lead belongs to one niche). A
 * loader reads only the claims a command needs; folding the stream rebuilds this niche's.
 */
import type { Decider } from '@fairlead/event-sourcing';
import { decideClaim, decideClaims, type StoredClaim } from './claim';
import { NicheNotFoundError } from './errors';
import { eventIds } from './ids';
import { decideNiche, evolveNiche, type NicheCommand, type NicheEvent, type NicheState } from './niche';

/** The claims known, by lead: a Map as loaded, or a Map with the claims folded since. */
export type ClaimsByLead = Pick<ReadonlyMap<string, StoredClaim>, 'get' | 'has'>;

export interface NicheDecisionState {
  niche: NicheState;
  /** The claims known, by lead (the ones of other niches too). */
  claims: ClaimsByLead;
}

export type NicheDeciderCommand =
  | NicheCommand
  /** One lead's claim: refused with NO_ACTIVE_LEVELS when the niche has none. */
  | { type: 'claim_start_level'; niche_id: string; lead_id: string }
  /** Several leads' claims, in order; a lead that cannot be claimed (no active level) is left unclaimed. */
  | { type: 'claim_start_levels'; niche_id: string; lead_ids: readonly string[] };

/** A niche event as decided, with its deterministic id where it has one. */
export type DecidedNicheEvent = NicheEvent & { id?: string };

const withId = (event: NicheEvent): DecidedNicheEvent => {
  switch (event.type) {
    case 'NicheCreated':
      return { ...event, id: eventIds.nicheCreated(event.data.niche_id) };
    case 'CompetitionLevelAdded':
      return { ...event, id: eventIds.levelAdded(event.data.niche_id, event.data.level_id) };
    case 'StartLevelClaimed':
      return { ...event, id: eventIds.startLevelClaimed(event.data.lead_id) };
    default:
      return event;
  }
};

function decide(command: NicheDeciderCommand, { niche, claims }: NicheDecisionState): DecidedNicheEvent[] {
  switch (command.type) {
    case 'claim_start_level':
      if (!niche) throw new NicheNotFoundError(command.niche_id);
      // A lead claimed before (here or elsewhere) is answered from its claim.
      return claims.has(command.lead_id) ? [] : [withId(decideClaim(niche, command.lead_id))];
    case 'claim_start_levels':
      if (!niche) throw new NicheNotFoundError(command.niche_id);
      return decideClaims(
        niche,
        command.lead_ids.filter((id) => !claims.has(id)),
      ).events.map(withId);
    default:
      return decideNiche(command, niche).map(withId);
  }
}

function evolve(state: NicheDecisionState, event: DecidedNicheEvent): NicheDecisionState {
  const niche = evolveNiche(state.niche, event, (state.niche?.version ?? -1) + 1);
  if (event.type !== 'StartLevelClaimed') return { ...state, niche };
  const { lead_id, niche_id, start_order_position, traversal } = event.data;
  return { niche, claims: withClaim(state.claims, lead_id, { niche_id, start_order_position, traversal }) };
}

/**
 * The claims plus one, without copying them: a batch folds hundreds of claims into one
 * state, and a copy per claim would cost time quadratic in the batch.
 */
const withClaim = (claims: ClaimsByLead, leadId: string, claim: StoredClaim): ClaimsByLead => ({
  get: (id) => (id === leadId ? claim : claims.get(id)),
  has: (id) => id === leadId || claims.has(id),
});

export const nicheDecider: Decider<NicheDeciderCommand, DecidedNicheEvent, NicheDecisionState> = {
  initialState: () => ({ niche: null, claims: new Map() }),
  evolve,
  decide,
};
