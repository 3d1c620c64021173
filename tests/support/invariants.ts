import { streams, type DistributionEventData } from '@fairlead/contracts';
import type { StoredEvent } from '@fairlead/event-store';
import type { DistributionSystem } from './system';

export interface DistributionFacts {
  claims: DistributionEventData<'StartLevelClaimed'>[];
  assignments: DistributionEventData<'LeadAssigned'>[];
  charges: DistributionEventData<'WalletCharged'>[];
  walletEvents: StoredEvent[];
  outcomes: DistributionEventData<'DistributionCompleted'>[];
}

/** Reads every fact the invariants are about straight from the event store. */
export async function collectFacts(system: DistributionSystem, nicheId: string, leadIds: string[], providerIds: string[]): Promise<DistributionFacts> {
  const claims = (await system.store.readStream(streams.niche(nicheId))).filter((e) => e.type === 'StartLevelClaimed').map((e) => e.data as DistributionEventData<'StartLevelClaimed'>);
  const leadEvents = (await Promise.all(leadIds.map((id) => system.leadEvents(id)))).flat();
  const walletEvents = (await Promise.all(providerIds.map((id) => system.store.readStream(streams.wallet(id))))).flat();
  return {
    claims,
    assignments: leadEvents.filter((e) => e.type === 'LeadAssigned').map((e) => e.data as DistributionEventData<'LeadAssigned'>),
    outcomes: leadEvents.filter((e) => e.type === 'DistributionCompleted').map((e) => e.data as DistributionEventData<'DistributionCompleted'>),
    charges: walletEvents.filter((e) => e.type === 'WalletCharged').map((e) => e.data as DistributionEventData<'WalletCharged'>),
    walletEvents,
  };
}

/**
 * The invariants of lead distribution (docs/distribution.md), each returned as a list of violations (empty = holds), so a
 * failing test says which rule broke and where.
 */
export function checkInvariants(facts: DistributionFacts, { levels, leadIds, maxRecipients }: { levels: number; leadIds: string[]; maxRecipients: Record<string, number> }) {
  const violations: string[] = [];

  // Rotation: in claim order the start levels run 1,2,…,n,1,… with no repeat or skip.
  facts.claims.forEach((c, i) => {
    const expected = (i % levels) + 1;
    if (c.start_order_position !== expected) violations.push(`claim #${i} (lead ${c.lead_id}) started at ${c.start_order_position}, expected ${expected}`);
  });
  const claimedLeads = new Set(facts.claims.map((c) => c.lead_id));
  if (claimedLeads.size !== facts.claims.length) violations.push('a lead claimed a start level twice');

  // Every lead has exactly one outcome.
  for (const id of leadIds) {
    const n = facts.outcomes.filter((o) => o.lead_id === id).length;
    if (n !== 1) violations.push(`lead ${id} has ${n} outcomes`);
  }

  // At most one assignment per (lead, provider); no level over max_recipients.
  const pairs = new Map<string, number>();
  const perLevel = new Map<string, number>();
  for (const a of facts.assignments) {
    pairs.set(`${a.lead_id}|${a.provider_id}`, (pairs.get(`${a.lead_id}|${a.provider_id}`) ?? 0) + 1);
    perLevel.set(`${a.lead_id}|${a.level_id}`, (perLevel.get(`${a.lead_id}|${a.level_id}`) ?? 0) + 1);
  }
  for (const [pair, n] of pairs) if (n > 1) violations.push(`${pair} assigned ${n} times`);
  for (const [key, n] of perLevel) {
    const levelId = key.split('|')[1]!;
    if (n > (maxRecipients[levelId] ?? 0)) violations.push(`${key}: ${n} assignments over max_recipients ${maxRecipients[levelId]}`);
  }

  // No wallet below zero, ever.
  for (const e of facts.walletEvents) {
    const data = e.data as { balance_after_cents?: number; balance_cents?: number };
    const balance = data.balance_after_cents ?? data.balance_cents;
    if (balance !== undefined && balance < 0) violations.push(`${e.stream} v${e.streamVersion}: balance ${balance}`);
  }

  // Per provider: the sum of charges equals the sum of assignment prices; one charge per (lead, provider).
  const charged = new Map<string, number>();
  const chargePairs = new Set<string>();
  for (const c of facts.charges) {
    charged.set(c.provider_id, (charged.get(c.provider_id) ?? 0) + c.amount_cents);
    const key = `${c.lead_id}|${c.provider_id}`;
    if (chargePairs.has(key)) violations.push(`${key} charged twice`);
    chargePairs.add(key);
  }
  const assignedPrice = new Map<string, number>();
  for (const a of facts.assignments) assignedPrice.set(a.provider_id, (assignedPrice.get(a.provider_id) ?? 0) + a.price_cents);
  for (const provider of new Set([...charged.keys(), ...assignedPrice.keys()])) {
    if ((charged.get(provider) ?? 0) !== (assignedPrice.get(provider) ?? 0)) {
      violations.push(`provider ${provider}: charged ${charged.get(provider) ?? 0}, assigned prices ${assignedPrice.get(provider) ?? 0}`);
    }
  }
  return violations;
}
