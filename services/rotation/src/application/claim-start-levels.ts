/**
 * claim_start_levels: claim_start_level for many leads of one niche, with one lock of the
 * niche and one transaction. Leads claimed before are answered from their rows; the rest
 * are decided in request order, each on the state the previous one left (decideClaims),
 * appended as one append and recorded with one insert.
 */
import type pg from 'pg';
import type { CommandReply, rotationCommands } from '@fairlead/contracts';
import type { z } from 'zod';
import { claimOf, decideClaims, type Claim } from '../domain/claim';
import { NicheNotFoundError } from '../domain/errors';
import { eventIds } from '../domain/ids';
import { answerOf, ClaimsRacedError, findClaims, insertClaims, retryingRaces, type ClaimRow } from './claims-table';
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

export function createClaimStartLevels(deps: { pool: pg.Pool; repository: NicheRepository }) {
  const { pool, repository } = deps;

  const attempt = async ({ niche_id, lead_ids }: ClaimStartLevelsRequest): Promise<ClaimStartLevelsReply> => {
    const known = await findClaims(pool, lead_ids);
    if (lead_ids.every((id) => known.has(id))) {
      return { niche_id, claims: lead_ids.map((id) => storedEntry(known.get(id)!, niche_id, id)) };
    }
    // No metadata on the events (a single claim puts its lead_id there): each names its lead in
    // its data, and a batch's list of leads would be repeated on every one of them.
    return repository.write(
      niche_id,
      async (state, tx) => {
        if (!state) throw new NicheNotFoundError(niche_id);
        // Other requests for these leads may have claimed while we waited for the lock.
        const stored = await findClaims(tx, lead_ids);
        const { events, outcomes } = decideClaims(state, lead_ids.filter((id) => !stored.has(id)));
        const fresh = new Map<string, Entry>(outcomes.map((o) => [o.lead_id, 'claimed' in o ? claimEntry(claimOf(o.claimed)) : errorEntry(o.lead_id, o.error)]));
        const reply = (): ClaimStartLevelsReply => ({
          niche_id,
          claims: lead_ids.map((id) => fresh.get(id) ?? storedEntry(stored.get(id)!, niche_id, id)),
        });
        const claims = events.map(claimOf);
        return {
          events: events.map((event) => ({ id: eventIds.startLevelClaimed(event.data.lead_id), event })),
          alongside: async (t: pg.PoolClient) => {
            // Fewer rows than claims: some lead was claimed under another niche's lock meanwhile.
            if ((await insertClaims(t, niche_id, claims)) < claims.length) throw new ClaimsRacedError(niche_id);
          },
          result: reply,
        };
      },
    );
  };

  return (request: ClaimStartLevelsRequest): Promise<ClaimStartLevelsReply> => retryingRaces(() => attempt(request));
}
