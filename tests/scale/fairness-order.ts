/**
 * The least-recently-served rule as a single replica follows it, checked on the record a
 * run left (the niche's lead streams in global order), whoever decided each lead:
 *
 * 1. each selection ranked its candidates least recently served first (never served
 *    first, then the oldest last_received_at, then provider id) and picked the first ones;
 * 2. the view it ranked by was not stale: every candidate's last_received_at is at least
 *    the latest assignment of that subscription recorded before the selection. A replica
 *    deciding without the niche lock, or from a view that missed another replica's
 *    assignments, breaks this.
 *
 * Returns the violations (empty: the order holds).
 */
import type { DistributionEventData } from '@fairlead/contracts';
import type { StoredEvent } from '@fairlead/event-store';

type Selected = DistributionEventData<'ProvidersSelected'>;
type Assigned = DistributionEventData<'LeadAssigned'>;

const ms = (iso: string | null) => (iso === null ? Number.NEGATIVE_INFINITY : Date.parse(iso));

/** True when `a` must come after `b`: `b` was served less recently (never before ever), or as recently with a smaller provider id. */
function ranksAfter(a: Selected['candidates'][number], b: Selected['candidates'][number]): boolean {
  const [ta, tb] = [ms(a.last_received_at), ms(b.last_received_at)];
  if (ta !== tb) return ta > tb;
  return a.provider_id > b.provider_id;
}

export function fairnessOrderViolations(events: readonly StoredEvent[]): string[] {
  const violations: string[] = [];
  const ordered = [...events].sort((a, b) => (a.globalPosition < b.globalPosition ? -1 : a.globalPosition > b.globalPosition ? 1 : 0));
  /** Latest recorded assignment time per subscription, as of the event being read. */
  const lastAssigned = new Map<string, number>();
  for (const event of ordered) {
    if (event.type === 'LeadAssigned') {
      const a = event.data as Assigned;
      lastAssigned.set(a.subscription_id, Math.max(lastAssigned.get(a.subscription_id) ?? Number.NEGATIVE_INFINITY, ms(a.assigned_at)));
      continue;
    }
    if (event.type !== 'ProvidersSelected') continue;
    const s = event.data as Selected;
    const where = `lead ${s.lead_id} level ${s.level_id} round ${s.round}`;
    for (let i = 1; i < s.candidates.length; i++) {
      const [a, b] = [s.candidates[i - 1]!, s.candidates[i]!];
      if (ranksAfter(a, b)) violations.push(`${where}: candidate ${b.provider_id} ranked after ${a.provider_id} though served less recently`);
    }
    s.picks.forEach((pick, i) => {
      if (s.candidates[i]?.subscription_id !== pick.subscription_id) violations.push(`${where}: pick ${i + 1} is ${pick.provider_id}, not the least recently served candidate left`);
    });
    for (const c of s.candidates) {
      const known = lastAssigned.get(c.subscription_id);
      if (known !== undefined && ms(c.last_received_at) < known) {
        violations.push(`${where}: saw ${c.provider_id} last served ${c.last_received_at ?? 'never'}, but an assignment at ${new Date(known).toISOString()} was already recorded`);
      }
    }
  }
  return violations;
}
