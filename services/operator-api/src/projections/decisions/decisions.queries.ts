/**
 * One lead's decision record, assembled from `operator.decisions`, `decision_rounds` and
 * `decision_results`: for each level of the traversal, each evaluation round with its
 * candidates in least-recently-served order and what became of each. A round's row is a
 * reference to its ProvidersSelected event: candidates, exclusions and picks are read from
 * the event in the log (`<store schema>.events`, by event_id, once per round) and checked
 * against the contract here, where the projector only checked that they are lists; the
 * providers' names are then looked up by the ids in the checked lists.
 */
import type pg from 'pg';
import type { z } from 'zod';
import { ProvidersSelected, type LevelSnapshot, type SkipReason } from '@fairlead/contracts';
import { quoteIdentifier } from '@fairlead/event-store';
import { AppError } from '@fairlead/platform';
import { centsOf } from '../upgrade';

type Db = Pick<pg.Pool, 'query'>;

/** chosen: picked and charged; skipped: picked, not charged (why in `reason`); pending: picked, no answer yet; not_picked: ranked below the free slots. */
export type CandidateDecision = 'chosen' | 'skipped' | 'withdrawn' | 'pending' | 'not_picked';

export interface CandidateView {
  rank: number;
  provider_id: string;
  provider_name: string | null;
  subscription_id: string;
  last_received_at: string | null;
  decision: CandidateDecision;
  reason: string | null;
  detail: string | null;
  price_cents: number | null;
  assignment_id: string | null;
}

export interface RoundView {
  round: number;
  candidates: CandidateView[];
  excluded: { provider_id: string; provider_name: string | null; subscription_id: string; reason: SkipReason }[];
}

export interface LevelView extends LevelSnapshot {
  rounds: RoundView[];
}

export interface DecisionRecord {
  lead_id: string;
  niche_id: string;
  request_id: string | null;
  start_order_position: number | null;
  traversal: LevelSnapshot[];
  started_at: Date | null;
  outcome: string | null;
  completed_at: Date | null;
  duration_ms: number | null;
  levels: LevelView[];
}

interface HeaderRow {
  lead_id: string;
  niche_id: string;
  request_id: string | null;
  start_order_position: number | null;
  traversal: LevelSnapshot[];
  started_at: Date | null;
  outcome: string | null;
  completed_at: Date | null;
  duration_ms: number | null;
}

interface RoundRow {
  event_id: string;
  level_id: string;
  order_position: number;
  round: number;
  /** The ProvidersSelected's data (its lists are read from it); null when the log has no such event. */
  lists: unknown;
}

/** What the record shows of a ProvidersSelected beyond its row: its lists, as the contract has them. */
const RoundLists = ProvidersSelected.pick({ candidates: true, excluded: true, picks: true });
type RoundLists = z.output<typeof RoundLists>;

/**
 * A round's event is missing from the log (a read model built from another log) or does not
 * match its contract (the projector checks only its keys): the record cannot be shown
 * whole, and half of it would mislead an auditor.
 */
export class DecisionRoundUnreadableError extends AppError {
  constructor(leadId: string, eventId: string, problem: 'missing' | 'invalid', cause?: unknown) {
    super(
      problem === 'missing' ? 'DECISION_ROUND_EVENT_MISSING' : 'DECISION_ROUND_EVENT_INVALID',
      problem === 'missing'
        ? `The decision record of lead ${leadId} refers to ProvidersSelected event ${eventId}, which is not in the event log.`
        : `The decision record of lead ${leadId} cannot be shown: its ProvidersSelected event ${eventId} does not match the contract.`,
      { status: 500, details: { lead_id: leadId, event_id: eventId }, ...(cause === undefined ? {} : { cause }) },
    );
    this.name = 'DecisionRoundUnreadableError';
  }
}

function listsOf(leadId: string, row: RoundRow): RoundLists {
  if (row.lists === null) throw new DecisionRoundUnreadableError(leadId, row.event_id, 'missing');
  const parsed = RoundLists.safeParse(row.lists);
  if (!parsed.success) throw new DecisionRoundUnreadableError(leadId, row.event_id, 'invalid', parsed.error);
  return parsed.data;
}

interface ResultRow {
  provider_id: string;
  level_id: string;
  result: 'assigned' | 'skipped' | 'withdrawn';
  reason: string | null;
  detail: string | null;
  price_cents: number | null;
  assignment_id: string | null;
}

/**
 * The statement reading a lead's rounds ($1: the lead id) with their events' data from the
 * log in `storeSchema` (checked as an identifier), each event found by the log's unique index
 * on event_id (its `collate "C"` wins over the row's default collation, so the index serves
 * the join; the test checks the plan). Rounds of equal position and round (a retried
 * distribution) in log order.
 */
export function roundsStatement(storeSchema: string): string {
  const events = `${quoteIdentifier(storeSchema, 'schema')}.events`;
  // The event's data whole (its lists are nearly all of it): each `->` would decompress it again.
  return `select r.event_id, r.level_id, r.order_position, r.round, e.data as lists
         from operator.decision_rounds r left join ${events} e on e.event_id = r.event_id
        where r.lead_id = $1
        order by r.order_position, r.round, e.global_position`;
}

/**
 * The names of the providers the record shows ($1: their ids), looked up from the lists as
 * parsed: the log is read once per round. Finding the ids in SQL instead meant reading each
 * event a second time (a join and a jsonpath over every list). One statement can read the
 * event once and still find the names (its data detoasted in a subquery kept apart by
 * `offset 0`), but the jsonpath and the aggregate of names left PostgreSQL's CPU where the
 * two reads had it; by id it costs a third less (perf/decision-record.perf.ts, 3 × 60 ids).
 */
const NAMES = 'select provider_id, name from operator.providers where provider_id = any($1::text[])';

async function providerNames(db: Db, lists: readonly RoundLists[]): Promise<Map<string, string>> {
  // Picks are among the candidates.
  const ids = new Set<string>();
  for (const { candidates, excluded } of lists) for (const x of [...candidates, ...excluded]) ids.add(x.provider_id);
  if (ids.size === 0) return new Map();
  const { rows } = await db.query<{ provider_id: string; name: string }>(NAMES, [[...ids]]);
  return new Map(rows.map((r) => [r.provider_id, r.name]));
}

/**
 * The record, or undefined when no distribution of the lead has started. `storeSchema`: the
 * schema of the event store's tables (PostgresEventStore.schema; the API's is checked at start).
 * Throws DecisionRoundUnreadableError when a round's event is missing or malformed.
 */
export async function findDecisionRecord(db: Db, leadId: string, storeSchema: string): Promise<DecisionRecord | undefined> {
  const [header, rounds, results] = await Promise.all([
    db.query<HeaderRow>(`select * from operator.decisions where lead_id = $1`, [leadId]),
    db.query<RoundRow>(roundsStatement(storeSchema), [leadId]),
    db.query<ResultRow>(`select provider_id, level_id, result, reason, detail, price_cents, assignment_id from operator.decision_results where lead_id = $1`, [leadId]),
  ]);
  const head = header.rows[0];
  if (!head) return undefined;
  const lists = rounds.rows.map((r) => listsOf(leadId, r));
  const nameOf = await providerNames(db, lists);
  // price_cents is a bigint column (a decimal string from pg).
  for (const r of results.rows) if (r.price_cents !== null) r.price_cents = centsOf(r.price_cents);
  // Per (level, provider), the results of its picks in round order: picks taken back come
  // first (a withdrawn pick is picked again later), then at most one charge decision (a
  // provider is charged for a lead once).
  const resultsOf = new Map<string, ResultRow[]>();
  for (const r of [...results.rows].sort((a, b) => Number(b.result === 'withdrawn') - Number(a.result === 'withdrawn'))) {
    const key = `${r.level_id}/${r.provider_id}`;
    resultsOf.set(key, [...(resultsOf.get(key) ?? []), r]);
  }
  const taken = new Map<string, number>();
  const resultOf = (key: string): ResultRow | undefined => {
    const i = taken.get(key) ?? 0;
    taken.set(key, i + 1);
    return resultsOf.get(key)?.[i];
  };

  const roundsOf = new Map<string, RoundView[]>();
  for (const [index, r] of rounds.rows.entries()) {
    const { candidates, excluded, picks } = lists[index]!;
    const picked = new Map(picks.map((p) => [p.provider_id, p]));
    const view: RoundView = {
      round: r.round,
      candidates: candidates.map((c, i) => {
        const pick = picked.get(c.provider_id);
        const result = pick ? resultOf(`${r.level_id}/${c.provider_id}`) : undefined;
        const decision: CandidateDecision = !pick ? 'not_picked' : !result ? 'pending' : result.result === 'assigned' ? 'chosen' : result.result;
        return {
          rank: i + 1,
          provider_id: c.provider_id,
          provider_name: nameOf.get(c.provider_id) ?? null,
          subscription_id: c.subscription_id,
          last_received_at: c.last_received_at,
          decision,
          reason: decision === 'not_picked' ? 'no free slot at this rank' : (result?.reason ?? null),
          detail: result?.detail ?? null,
          price_cents: pick?.price_cents ?? null,
          assignment_id: result?.assignment_id ?? null,
        };
      }),
      excluded: excluded.map((x) => ({ ...x, provider_name: nameOf.get(x.provider_id) ?? null })),
    };
    roundsOf.set(r.level_id, [...(roundsOf.get(r.level_id) ?? []), view]);
  }
  return {
    ...head,
    levels: head.traversal.map((level) => ({ ...level, rounds: roundsOf.get(level.level_id) ?? [] })),
  };
}
