/**
 * rotation.claims: one row per claimed lead, written in the transaction that appends its
 * StartLevelClaimed, so a repeated claim is answered from here. Also how a claim raced
 * under another niche's lock is recognised and asked again.
 */
import type pg from 'pg';
import { isEventIdConflictError, type AppendStatement } from '@fairlead/event-store';
import { ConflictError } from '@fairlead/platform';
import type { Claim, StoredClaim } from '../domain/claim';
import { LeadClaimedElsewhereError } from '../domain/errors';
import { CLAIMS_RACED_SQLSTATE } from '../schema';

type Db = Pick<pg.ClientBase, 'query'>;

export type ClaimRow = StoredClaim;

export async function findClaim(db: Db, leadId: string): Promise<ClaimRow | undefined> {
  const { rows } = await db.query<ClaimRow>('select niche_id, start_order_position, traversal from rotation.claims where lead_id = $1', [leadId]);
  return rows[0];
}

/** The stored claims of those leads that have one, by lead id. */
export async function findClaims(db: Db, leadIds: readonly string[]): Promise<Map<string, ClaimRow>> {
  const { rows } = await db.query<ClaimRow & { lead_id: string }>(
    'select lead_id, niche_id, start_order_position, traversal from rotation.claims where lead_id = any($1::text[])',
    [leadIds],
  );
  return new Map(rows.map(({ lead_id, ...row }) => [lead_id, row]));
}

/**
 * The rows of new claims of one niche, as SQL of the statement that appends their
 * StartLevelClaimed (handleCommand's alongsideStatement): inserted only when the append wrote,
 * and rotation.claims_recorded undoes the whole statement (SQLSTATE CLAIMS_RACED_SQLSTATE,
 * see claimsRaced) when fewer were new than claims — some lead was claimed under another
 * niche's lock meanwhile. The text is the same for any number of claims (one prepared statement).
 */
export function recordClaimsStatement(nicheId: string, claims: readonly Claim[]): AppendStatement {
  return {
    ctes: (param) => `claims_inserted as (
      insert into rotation.claims (lead_id, niche_id, start_order_position, traversal)
      select u.lead_id, ${param(nicheId)}::text, u.start_order_position, u.traversal
        from unnest(${param(claims.map((c) => c.lead_id))}::text[], ${param(claims.map((c) => c.start_order_position))}::integer[], ${param(claims.map((c) => JSON.stringify(c.traversal)))}::jsonb[])
             as u(lead_id, start_order_position, traversal)
       where (select a.r_outcomes[1] from appended a) = 'ok'
      on conflict (lead_id) do nothing
      returning 1)`,
    select: (param) => `rotation.claims_recorded((select a.r_outcomes[1] from appended a), (select count(*) from claims_inserted)::integer, ${param(claims.length)}::integer)`,
  };
}

/** A write refused by rotation.claims_recorded as the ClaimsRacedError it stands for; other errors as they are. */
export function claimsRaced(error: unknown, nicheId: string): unknown {
  return (error as { code?: unknown } | null)?.code === CLAIMS_RACED_SQLSTATE ? new ClaimsRacedError(nicheId) : error;
}

/** The answer of a stored claim to a request naming `nicheId`; a lead belongs to one niche. */
export function answerOf(row: ClaimRow, nicheId: string, leadId: string): Claim {
  if (row.niche_id !== nicheId) throw new LeadClaimedElsewhereError(leadId, row.niche_id);
  return { niche_id: row.niche_id, lead_id: leadId, start_order_position: row.start_order_position, traversal: row.traversal };
}

/** Some leads of a batch were claimed under another niche's lock while this one decided: roll back, ask again. */
export class ClaimsRacedError extends ConflictError {
  constructor(readonly nicheId: string) {
    super(`niche ${nicheId}: some leads were claimed in another niche at the same moment`, { code: 'CLAIM_RACED', details: { niche_id: nicheId } });
    this.name = 'ClaimsRacedError';
  }
}

// Two batches of different niches inserting the same leads' event ids in opposite orders
// wait on each other; PostgreSQL breaks that by failing one of them.
const isDeadlock = (error: unknown) => (error as { code?: unknown } | null)?.code === '40P01';

/**
 * Runs a claim again when it lost a race for one of its leads to a claim under another
 * niche's lock (both held their own lock, so the event store's unique event id, or the
 * claims row, is what stops the second). The loser's transaction rolled back; asked
 * again, it finds the winner's row and answers LEAD_CLAIMED_IN_OTHER_NICHE for that lead.
 */
export async function retryingRaces<T>(run: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const raced = isEventIdConflictError(error) || error instanceof ClaimsRacedError || isDeadlock(error);
      if (!raced || attempt >= attempts) throw error;
    }
  }
}
