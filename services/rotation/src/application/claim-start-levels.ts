/**
 * claim_start_levels: claim_start_level for many leads of one niche, with one lock of the
 * niche and one transaction. Leads claimed before are answered from their rows; the rest
 * are decided in request order, each on the state the previous one left (the niche
 * decider's claim_start_levels), appended as one append and recorded with one insert, in
 * one statement (two round trips in all: lock and read, then write; niche-repository.ts).
 */
import type { CommandReply, rotationCommands } from '@fairlead/contracts';
import type { z } from 'zod';
import { claimOf, type Claim } from '../domain/claim';
import { NoActiveLevelsError } from '../domain/errors';
import { answerOf, claimsRaced, recordClaimsStatement, retryingRaces, type ClaimRow } from './claims-table';
import type { NicheRepository } from './niche-repository';

export type ClaimStartLevelsRequest = z.output<(typeof rotationCommands)['claim_start_levels']['request']>;
export type ClaimStartLevelsReply = CommandReply<'rotation', 'claim_start_levels'>;
type Entry = ClaimStartLevelsReply['claims'][number];

const claimEntry = ({ lead_id, start_order_position, traversal }: Claim): Entry => ({ lead_id, start_order_position, traversal });
const errorEntry = (leadId: string, error: { code: string; message: string }): Entry => ({ lead_id: leadId, error: { code: error.code, message: error.message } });

/** A stored claim as an entry: its first answer, or LEAD_CLAIMED_IN_OTHER_NICHE. */
function storedEntry(row: ClaimRow, nicheId: string, leadId: string): Entry {
  try {
    return claimEntry(answerOf(row, nicheId, leadId));
  } catch (error) {
    return errorEntry(leadId, error as { code: string; message: string });
  }
}

export function createClaimStartLevels(deps: { repository: NicheRepository }) {
  const { repository } = deps;

  const attempt = async ({ niche_id, lead_ids }: ClaimStartLevelsRequest): Promise<ClaimStartLevelsReply> => {
    // No read of the claims before the lock: fairness asks only for leads it has not seen
    // claimed, so such a read found nothing nearly every time (a round trip per request for the
    // rare repeat); a repeat is answered from its row read under the lock, appending nothing.
    // No metadata on the events (a single claim puts its lead_id there): each names its lead in
    // its data, and a batch's list of leads would be repeated on every one of them.
    // Other requests for these leads may claim while we wait for the lock: the decision reads their claims under it.
    const { before, events } = await repository
      .write(
        { type: 'claim_start_levels', niche_id, lead_ids },
        {
          // Fewer rows new than claims (some lead claimed under another niche's lock meanwhile) undoes the write: ClaimsRacedError.
          alongsideStatement: (outcome) => recordClaimsStatement(niche_id, outcome.events.flatMap((e) => (e.type === 'StartLevelClaimed' ? [claimOf(e)] : []))),
        },
      )
      .catch((error: unknown) => {
        throw claimsRaced(error, niche_id);
      });
    const fresh = new Map(events.flatMap((e) => (e.type === 'StartLevelClaimed' ? [[e.data.lead_id, claimEntry(claimOf(e))] as const] : [])));
    const entryOf = (leadId: string): Entry => {
      const claimed = fresh.get(leadId);
      if (claimed) return claimed;
      const stored = before.claims.get(leadId);
      // Neither claimed before nor now: the niche has no active level.
      return stored ? storedEntry(stored, niche_id, leadId) : errorEntry(leadId, new NoActiveLevelsError(niche_id));
    };
    return { niche_id, claims: lead_ids.map(entryOf) };
  };

  return (request: ClaimStartLevelsRequest): Promise<ClaimStartLevelsReply> => retryingRaces(() => attempt(request));
}
