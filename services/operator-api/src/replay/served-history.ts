/**
 * The least-recently-served order re-derived from the log itself, not from the times a
 * decision recorded about itself (those are what a faulty decider would get wrong too).
 *
 * The rule (docs/distribution.md, "Fairness"): within a level, a subscription was last
 * served by its latest pick that still counts — a pick (an entry of ProvidersSelected.picks)
 * counts from the moment it is recorded unless the same lead later declined it
 * (ProviderSkipped) or took it back (PicksWithdrawn). Picks are ordered by their place in
 * the log (global position of the ProvidersSelected, then their index in it), so two picks
 * never tie. At each ProvidersSelected, the recorded candidates must be in that order —
 * never served first, then least recently served, then provider id — and the picks must be
 * the head of it. Events are fed in log order; each round is checked against the history
 * before it and then becomes part of it.
 */
import { parseDistributionEvent, type DistributionEventData } from '@fairlead/contracts';

/** An event of a lead stream in log order (a StoredEvent has these). */
export interface HistoryEvent {
  type: string;
  data: unknown;
  globalPosition: bigint;
}

/** Where a pick stands in the log: the ProvidersSelected's global position, then its index. */
export interface ServedMark {
  lead_id: string;
  global_position: string;
  index: number;
}

export interface HistoryRoundVerdict {
  lead_id: string;
  level_id: string;
  round: number;
  global_position: string;
  /** The candidates as the history orders them, with when each was last served by the log. */
  derived: { provider_id: string; subscription_id: string; last_served: ServedMark | null }[];
  violations: string[];
}

type Mark = { position: bigint; index: number; leadId: string };

interface LivePick {
  subscriptionId: string;
  mark: Mark;
}

/** A subscription's served history: its latest assignment, and its picks still waiting for billing. */
interface Served {
  assigned: Mark | undefined;
  pending: Set<Mark>;
}

/** What one lead did with providers so far (forgotten once the lead completes). */
interface LeadDoings {
  /** Providers with an assignment or a pick waiting for billing, and how many. */
  taken: Map<string, number>;
  /** `provider\0level` billing declined for lack of funds. */
  declinedAt: Set<string>;
}

const pickKey = (leadId: string, providerId: string, levelId: string) => `${leadId}\u0000${providerId}\u0000${levelId}`;

function compareMarks(a: Mark | undefined, b: Mark | undefined): number {
  if (!a || !b) return a === b ? 0 : a ? 1 : -1; // never served first
  if (a.position !== b.position) return a.position < b.position ? -1 : 1;
  return a.index - b.index;
}

const later = (a: Mark | undefined, b: Mark | undefined) => (compareMarks(a, b) >= 0 ? a : b);
const show = (m: Mark | undefined) => (m ? `for lead ${m.leadId} at global position ${m.position}${m.index > 0 ? ` (pick ${m.index + 1})` : ''}` : 'never');
const markOf = (m: Mark | undefined): ServedMark | null => (m ? { lead_id: m.leadId, global_position: m.position.toString(), index: m.index } : null);

/**
 * Feed it lead events in log order (of a niche, or the whole log); it checks every round on
 * the way. It keeps one latest assignment per subscription, the picks still waiting for
 * billing, and what each lead in progress did, so a long log costs little memory.
 */
export class ServedHistory {
  /** Picks waiting for billing, by lead + provider + level. */
  private readonly live = new Map<string, LivePick>();
  private readonly served = new Map<string, Served>();
  private readonly leads = new Map<string, LeadDoings>();

  lastServed(subscriptionId: string): ServedMark | null {
    return markOf(this.latest(subscriptionId));
  }

  /** Applies one event; a ProvidersSelected is checked first and its verdict returned. */
  apply(event: HistoryEvent): HistoryRoundVerdict | undefined {
    switch (event.type) {
      case 'ProvidersSelected': {
        const d = parseDistributionEvent('ProvidersSelected', event.data);
        const verdict = this.check(d, event.globalPosition);
        d.picks.forEach((p, index) => this.pick(d.lead_id, p.provider_id, d.level_id, p.subscription_id, { position: event.globalPosition, index, leadId: d.lead_id }));
        return verdict;
      }
      case 'LeadAssigned': {
        const d = parseDistributionEvent('LeadAssigned', event.data);
        const key = pickKey(d.lead_id, d.provider_id, d.level_id);
        // An assignment with no recorded pick (written before picks were recorded) counts where it stands.
        if (!this.live.has(key)) this.pick(d.lead_id, d.provider_id, d.level_id, d.subscription_id, { position: event.globalPosition, index: 0, leadId: d.lead_id });
        const pick = this.live.get(key)!;
        this.live.delete(key);
        const s = this.subscription(pick.subscriptionId);
        s.pending.delete(pick.mark);
        s.assigned = later(s.assigned, pick.mark);
        return undefined;
      }
      case 'ProviderSkipped': {
        const d = parseDistributionEvent('ProviderSkipped', event.data);
        this.drop(d.lead_id, d.provider_id, d.level_id);
        if (d.reason === 'insufficient_balance') this.lead(d.lead_id).declinedAt.add(`${d.provider_id}\u0000${d.level_id}`);
        return undefined;
      }
      case 'PicksWithdrawn': {
        const d = parseDistributionEvent('PicksWithdrawn', event.data);
        for (const p of d.picks) this.drop(d.lead_id, p.provider_id, p.level_id);
        return undefined;
      }
      case 'DistributionCompleted':
        this.leads.delete(parseDistributionEvent('DistributionCompleted', event.data).lead_id);
        return undefined;
      default:
        return undefined;
    }
  }

  private check(d: DistributionEventData<'ProvidersSelected'>, position: bigint): HistoryRoundVerdict {
    const violations: string[] = [];
    const lead = this.lead(d.lead_id);
    const derived = [...d.candidates].sort((a, b) => {
      const byMark = compareMarks(this.latest(a.subscription_id), this.latest(b.subscription_id));
      if (byMark !== 0) return byMark;
      if (a.provider_id !== b.provider_id) return a.provider_id < b.provider_id ? -1 : 1;
      return a.subscription_id < b.subscription_id ? -1 : a.subscription_id > b.subscription_id ? 1 : 0;
    });
    d.candidates.forEach((c, i) => {
      const expected = derived[i]!;
      if (expected.subscription_id !== c.subscription_id) {
        violations.push(
          `candidate ${i + 1} is ${c.provider_id} (last served ${show(this.latest(c.subscription_id))}), but by the log it is ${expected.provider_id} (last served ${show(this.latest(expected.subscription_id))})`,
        );
      }
      const served = this.latest(c.subscription_id);
      if (c.last_received_at === null && served) violations.push(`${c.provider_id} is recorded as never served, but the log shows it served ${show(served)}`);
      if (lead.taken.has(c.provider_id)) violations.push(`${c.provider_id} is a candidate, but this lead already went to it`);
    });
    d.picks.forEach((p, i) => {
      const expected = derived[i];
      if (!expected) violations.push(`pick ${p.provider_id} is beyond the eligible candidates`);
      else if (expected.subscription_id !== p.subscription_id) {
        violations.push(`pick ${i + 1} is ${p.provider_id}, but the least recently served eligible candidate left by the log was ${expected.provider_id}`);
      }
    });
    for (const x of d.excluded) {
      if (x.reason === 'already_assigned' && !lead.taken.has(x.provider_id)) violations.push(`${x.provider_id} is excluded as already assigned, but this lead has no pick or assignment for it`);
      if (x.reason === 'insufficient_balance' && !lead.declinedAt.has(`${x.provider_id}\u0000${d.level_id}`)) {
        violations.push(`${x.provider_id} is excluded for insufficient balance, but billing declined it in no earlier round of this level`);
      }
    }
    return {
      lead_id: d.lead_id,
      level_id: d.level_id,
      round: d.round,
      global_position: position.toString(),
      derived: derived.map((c) => ({ provider_id: c.provider_id, subscription_id: c.subscription_id, last_served: markOf(this.latest(c.subscription_id)) })),
      violations,
    };
  }

  private lead(leadId: string): LeadDoings {
    let l = this.leads.get(leadId);
    if (!l) this.leads.set(leadId, (l = { taken: new Map(), declinedAt: new Set() }));
    return l;
  }

  private subscription(subscriptionId: string): Served {
    let s = this.served.get(subscriptionId);
    if (!s) this.served.set(subscriptionId, (s = { assigned: undefined, pending: new Set() }));
    return s;
  }

  private latest(subscriptionId: string): Mark | undefined {
    const s = this.served.get(subscriptionId);
    if (!s) return undefined;
    let latest = s.assigned;
    for (const m of s.pending) latest = later(latest, m);
    return latest;
  }

  private pick(leadId: string, providerId: string, levelId: string, subscriptionId: string, mark: Mark): void {
    const key = pickKey(leadId, providerId, levelId);
    if (this.live.has(key)) return;
    this.live.set(key, { subscriptionId, mark });
    this.subscription(subscriptionId).pending.add(mark);
    // A pick waiting for billing keeps the provider from the lead's other levels, as an assignment does.
    const taken = this.lead(leadId).taken;
    taken.set(providerId, (taken.get(providerId) ?? 0) + 1);
  }

  private drop(leadId: string, providerId: string, levelId: string): void {
    const key = pickKey(leadId, providerId, levelId);
    const pick = this.live.get(key);
    if (!pick) return;
    this.live.delete(key);
    this.subscription(pick.subscriptionId).pending.delete(pick.mark);
    const taken = this.lead(leadId).taken;
    const n = (taken.get(providerId) ?? 1) - 1;
    if (n > 0) taken.set(providerId, n);
    else taken.delete(providerId);
  }
}
