/**
 * One lead's decision record, assembled from `operator.decisions`, `decision_rounds` and
 * `decision_results`: for each level of the traversal, each evaluation round with its
 * candidates in least-recently-served order and what became of each.
 */
import type pg from 'pg';
import type { LevelSnapshot, SkipReason } from '@fairlead/contracts';
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
  level_id: string;
  order_position: number;
  round: number;
  candidates: { provider_id: string; subscription_id: string; last_received_at: string | null }[];
  excluded: { provider_id: string; subscription_id: string; reason: SkipReason }[];
  picks: { provider_id: string; subscription_id: string; price_cents: number }[];
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

export async function findDecisionRecord(db: Db, leadId: string): Promise<DecisionRecord | undefined> {
  const [header, rounds, results, names] = await Promise.all([
    db.query<HeaderRow>(`select * from operator.decisions where lead_id = $1`, [leadId]),
    db.query<RoundRow>(`select level_id, order_position, round, candidates, excluded, picks from operator.decision_rounds where lead_id = $1 order by order_position, round`, [leadId]),
    db.query<ResultRow>(`select provider_id, level_id, result, reason, detail, price_cents, assignment_id from operator.decision_results where lead_id = $1`, [leadId]),
    db.query<{ provider_id: string; name: string }>(
      `select p.provider_id, p.name from operator.providers p
        where p.provider_id in (select jsonb_array_elements(candidates || excluded) ->> 'provider_id' from operator.decision_rounds where lead_id = $1)`,
      [leadId],
    ),
  ]);
  const head = header.rows[0];
  if (!head) return undefined;
  const nameOf = new Map(names.rows.map((r) => [r.provider_id, r.name]));
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
  for (const r of rounds.rows) {
    const picked = new Map(r.picks.map((p) => [p.provider_id, p]));
    const view: RoundView = {
      round: r.round,
      candidates: r.candidates.map((c, i) => {
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
      excluded: r.excluded.map((x) => ({ ...x, provider_name: nameOf.get(x.provider_id) ?? null })),
    };
    roundsOf.set(r.level_id, [...(roundsOf.get(r.level_id) ?? []), view]);
  }
  return {
    ...head,
    levels: head.traversal.map((level) => ({ ...level, rounds: roundsOf.get(level.level_id) ?? [] })),
  };
}
