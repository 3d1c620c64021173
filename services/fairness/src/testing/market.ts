/**
 * Generated markets and the rules of distribution as a plain, one-step-at-a-time model —
 * the original plan (EPIC 06) written as directly as it reads, to hold the real code to:
 * leads in order; the start level rotates; levels in traversal order; within a level one
 * slot at a time, the least recently served eligible subscription first (never served
 * first, then provider id); a charge billing declines leaves that provider out of the
 * level and the next one gets the slot; a provider gets a lead once, in one level. Every
 * assignment moves the subscription's last_received_at past every other (a sequence number
 * here: the order is all that matters).
 */
import fc from 'fast-check';

export interface MarketLevel {
  max: number;
  price: number;
}

export interface MarketSubscription {
  /** Index into Market.levels. */
  level: number;
  states: string[];
  dailyCap: number | null;
}

export interface MarketProvider {
  id: string;
  balance: number;
  subscriptions: MarketSubscription[];
}

export interface Market {
  levels: MarketLevel[];
  providers: MarketProvider[];
  /** Each lead's state, in the order the leads are approved. */
  leads: string[];
  /** How the leads are handed to the real code in batches (sizes, in order; the rest one by one). */
  batches: number[];
}

const profile = (levels: number) =>
  fc.record({
    balance: fc.oneof({ weight: 3, arbitrary: fc.constant(1_000_000) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 3_000 }) }),
    subscriptions: fc.subarray(
      Array.from({ length: levels }, (_, i) => i),
      { minLength: 1 },
    ).chain((indexes) =>
      fc.tuple(
        ...indexes.map((level) =>
          fc.record({
            level: fc.constant(level),
            states: fc.constantFrom<string[]>(['CA'], ['CA'], ['NV'], ['CA', 'NV']),
            dailyCap: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null, freq: 3 }),
          }),
        ),
      ),
    ),
  });

/**
 * Markets of 1–3 levels and 2–9 providers. Providers come in groups of identical copies (the
 * same subscriptions, areas, caps and balance), so equally eligible providers are common.
 */
export const marketArb: fc.Arbitrary<Market> = fc
  .array(fc.record({ max: fc.integer({ min: 1, max: 3 }), price: fc.constantFrom(100, 250, 500, 1_000) }), { minLength: 1, maxLength: 3 })
  .chain((levels) =>
    fc.record({
      levels: fc.constant(levels),
      providers: fc
        .array(fc.record({ profile: profile(levels.length), copies: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 4 })
        .map((groups) => groups.flatMap((g, gi) => Array.from({ length: g.copies }, (_, ci) => ({ id: `p${gi}${ci}`, balance: g.profile.balance, subscriptions: g.profile.subscriptions }))))
        .filter((providers) => providers.length >= 2),
      leads: fc.array(fc.constantFrom('CA', 'CA', 'CA', 'NV'), { minLength: 1, maxLength: 24 }),
      batches: fc.array(fc.integer({ min: 1, max: 10 }), { maxLength: 6 }),
    }),
  );

export const levelId = (i: number) => `l${i + 1}`;
export const subscriptionId = (providerId: string, level: number) => `${providerId}-${levelId(level)}`;

/** What the model (or a run of the real code) did with one lead. */
export interface LeadResult {
  /** `provider@level`, sorted. */
  assignments: string[];
  /** `provider@level` billing declined, sorted. */
  declined: string[];
}

export interface ModelRun {
  leads: LeadResult[];
  /** Per level, `leadIndex:provider` in the order the assignments were served. */
  servedOrder: Record<string, string[]>;
  /** Per (lead, level) decision: the subscriptions eligible and funded when it began. */
  decisions: { level: string; eligibleFunded: string[] }[];
}

export function referenceModel(market: Market): ModelRun {
  const balances = new Map(market.providers.map((p) => [p.id, p.balance]));
  const lastServed = new Map<string, number>();
  const today = new Map<string, number>();
  let seq = 0;
  const servedOrder: Record<string, string[]> = Object.fromEntries(market.levels.map((_, i) => [levelId(i), []]));
  const decisions: ModelRun['decisions'] = [];
  const leads = market.leads.map((state, leadIndex) => {
    const assigned = new Set<string>();
    const result: LeadResult = { assignments: [], declined: [] };
    const n = market.levels.length;
    for (let k = 0; k < n; k++) {
      const l = (leadIndex + k) % n;
      const level = market.levels[l]!;
      const declinedHere = new Set<string>();
      const eligible = () =>
        market.providers.flatMap((p) =>
          p.subscriptions
            .filter((s) => s.level === l && s.states.includes(state) && !assigned.has(p.id) && !declinedHere.has(p.id))
            .filter((s) => s.dailyCap === null || (today.get(subscriptionId(p.id, l)) ?? 0) < s.dailyCap)
            .map(() => ({ providerId: p.id, sub: subscriptionId(p.id, l) })),
        );
      decisions.push({ level: levelId(l), eligibleFunded: eligible().filter((c) => balances.get(c.providerId)! >= level.price).map((c) => c.sub) });
      for (let slots = level.max; slots > 0; ) {
        const next = eligible().sort((a, b) => {
          const sa = lastServed.get(a.sub);
          const sb = lastServed.get(b.sub);
          if (sa !== sb) return sa === undefined ? -1 : sb === undefined ? 1 : sa - sb;
          return a.providerId < b.providerId ? -1 : a.providerId > b.providerId ? 1 : 0;
        })[0];
        if (!next) break;
        const balance = balances.get(next.providerId)!;
        if (balance < level.price) {
          declinedHere.add(next.providerId);
          result.declined.push(`${next.providerId}@${levelId(l)}`);
          continue;
        }
        balances.set(next.providerId, balance - level.price);
        assigned.add(next.providerId);
        lastServed.set(next.sub, ++seq);
        today.set(next.sub, (today.get(next.sub) ?? 0) + 1);
        servedOrder[levelId(l)]!.push(`${leadIndex}:${next.providerId}`);
        result.assignments.push(`${next.providerId}@${levelId(l)}`);
        slots--;
      }
    }
    result.assignments.sort();
    result.declined.sort();
    return result;
  });
  return { leads, servedOrder, decisions };
}

/**
 * The fairness property: subscriptions of a level that were equally eligible and funded —
 * at every decision of that level either all of them were eligible (status, area, caps, not
 * already given this lead elsewhere) and could pay the level's price, or none was — end with
 * assignment counts that differ by at most one. Returns the groups that break it (empty when
 * it holds) and how many groups of two or more were checked.
 */
export function equalShareViolations(run: ModelRun): { violations: string[]; groupsChecked: number } {
  const violations: string[] = [];
  let groupsChecked = 0;
  for (const level of Object.keys(run.servedOrder)) {
    const decisions = run.decisions.filter((d) => d.level === level);
    // Two subscriptions are equal when every decision of the level saw both or neither.
    const signature = new Map<string, string>();
    const subs = new Set(decisions.flatMap((d) => d.eligibleFunded));
    for (const sub of subs) signature.set(sub, decisions.map((d) => (d.eligibleFunded.includes(sub) ? '1' : '0')).join(''));
    const groups = new Map<string, string[]>();
    for (const [sub, sig] of signature) groups.set(sig, [...(groups.get(sig) ?? []), sub]);
    for (const group of groups.values()) {
      if (group.length < 2) continue;
      groupsChecked++;
      const counts = group.map((sub) => run.servedOrder[level]!.filter((x) => `${x.split(':')[1]}-${level}` === sub).length);
      if (Math.max(...counts) - Math.min(...counts) > 1) violations.push(`${level}: ${group.map((s, i) => `${s}=${counts[i]}`).join(', ')}`);
    }
  }
  return { violations, groupsChecked };
}
