/**
 * The least-recently-served rule, re-derivable from a ProvidersSelected event alone: the
 * candidates must be in order (never served first, then oldest last_received_at, then
 * provider id), and the picks must be the first candidates of that order.
 */
export interface LruCandidate {
  provider_id: string;
  subscription_id: string;
  last_received_at: string | null;
}

export interface LruRound {
  candidates: readonly LruCandidate[];
  picks: readonly { provider_id: string; subscription_id: string }[];
}

export interface LruVerdict {
  lru_check: 'ok' | 'violated';
  /** Why it was violated (empty when ok). */
  violations: string[];
}

function before(a: LruCandidate, b: LruCandidate): number {
  if (a.last_received_at !== b.last_received_at) {
    if (a.last_received_at === null) return -1;
    if (b.last_received_at === null) return 1;
    const d = Date.parse(a.last_received_at) - Date.parse(b.last_received_at);
    if (d !== 0) return d;
  }
  return a.provider_id < b.provider_id ? -1 : a.provider_id > b.provider_id ? 1 : 0;
}

export function checkLru(round: LruRound): LruVerdict {
  const violations: string[] = [];
  for (let i = 1; i < round.candidates.length; i++) {
    const a = round.candidates[i - 1]!;
    const b = round.candidates[i]!;
    if (before(a, b) > 0) violations.push(`candidate ${i + 1} (${b.provider_id}, ${b.last_received_at ?? 'never'}) was served less recently than candidate ${i} (${a.provider_id}, ${a.last_received_at ?? 'never'})`);
  }
  round.picks.forEach((pick, i) => {
    const expected = round.candidates[i];
    if (!expected) violations.push(`pick ${pick.provider_id} is beyond the eligible candidates`);
    else if (expected.provider_id !== pick.provider_id || expected.subscription_id !== pick.subscription_id) {
      violations.push(`pick ${i + 1} is ${pick.provider_id} but the least recently served eligible candidate left was ${expected.provider_id}`);
    }
  });
  return { lru_check: violations.length === 0 ? 'ok' : 'violated', violations };
}
