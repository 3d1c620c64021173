/**
 * Test events of the distribution domain, built the way the owning services record them
 * and validated against the contracts, so a test cannot feed the read models something
 * the real services would never write.
 */
import { randomUUID } from 'node:crypto';
import { parseDistributionEvent, SYSTEM_ACTOR, type Actor, type DistributionEventData, type DistributionEventType, type LevelSnapshot } from '@fairlead/contracts';
import type { NewEvent } from '@fairlead/event-store';

export function event<T extends DistributionEventType>(type: T, data: DistributionEventData<T>, metadata: Record<string, unknown> = {}): NewEvent {
  return { id: randomUUID(), type, data: parseDistributionEvent(type, data), metadata };
}

export const level = (nicheId: string, n: number, max: number, priceCents: number): LevelSnapshot => ({
  level_id: `${nicheId}-l${n}`,
  name: `Level ${n}`,
  order_position: n,
  max_recipients: max,
  price_per_lead_cents: priceCents,
});

export const at = (minute: number): string => new Date(Date.UTC(2026, 0, 5, 10, minute)).toISOString();

export function approved(leadId: string, nicheId: string, approvedAt = at(0)): NewEvent {
  return event('LeadApproved', {
    received_via: 'nats',
    lead: {
      schema_version: 1,
      lead_id: leadId,
      niche_id: nicheId,
      approved_at: approvedAt,
      consumer: { name: 'Ada Lovelace', email: 'ada@example.com' },
      location: { postal_code: '94110', state: 'CA' },
      details: {},
    },
  });
}

export function requested(leadId: string, nicheId: string, requestId: string, by: Actor = SYSTEM_ACTOR, when = at(1)): NewEvent {
  return event('DistributionRequested', { lead_id: leadId, niche_id: nicheId, request_id: requestId, requested_by: by, requested_at: when });
}

export interface Scenario {
  leadId: string;
  nicheId: string;
  levels: LevelSnapshot[];
  /** The lead stream, in order. */
  events: NewEvent[];
}

/**
 * A partial distribution: start at level 2 (traversal 2, 1); in level 2 the first pick
 * (p3, never served) is declined for funds and p1 fills the slot; in level 1 p1 is
 * excluded as already assigned, p2 is chosen and p4 ranks below the free slots.
 */
export function partialDistribution(leadId: string, nicheId: string, requestId = randomUUID()): Scenario {
  const l1 = level(nicheId, 1, 1, 1_000);
  const l2 = level(nicheId, 2, 1, 2_500);
  const sub = (p: string, l: LevelSnapshot) => `${p}-${l.level_id}`;
  const events = [
    approved(leadId, nicheId),
    requested(leadId, nicheId, requestId),
    event('DistributionStarted', { lead_id: leadId, niche_id: nicheId, request_id: requestId, attempt: 1, start_order_position: 2, traversal: [l2, l1], started_at: at(2) }),
    event('ProvidersSelected', {
      lead_id: leadId,
      level_id: l2.level_id,
      order_position: 2,
      round: 0,
      candidates: [
        { provider_id: 'p3', subscription_id: sub('p3', l2), last_received_at: null },
        { provider_id: 'p1', subscription_id: sub('p1', l2), last_received_at: at(-60) },
      ],
      excluded: [{ provider_id: 'p9', subscription_id: sub('p9', l2), reason: 'ineligible_area' }],
      picks: [{ provider_id: 'p3', subscription_id: sub('p3', l2), price_cents: 2_500 }],
    }),
    event('ProviderSkipped', { lead_id: leadId, provider_id: 'p3', subscription_id: sub('p3', l2), level_id: l2.level_id, reason: 'insufficient_balance', detail: 'balance 100 < price 2500' }),
    event('ProvidersSelected', {
      lead_id: leadId,
      level_id: l2.level_id,
      order_position: 2,
      round: 1,
      candidates: [{ provider_id: 'p1', subscription_id: sub('p1', l2), last_received_at: at(-60) }],
      excluded: [],
      picks: [{ provider_id: 'p1', subscription_id: sub('p1', l2), price_cents: 2_500 }],
    }),
    event('LeadAssigned', {
      assignment_id: `${leadId}-a1`,
      lead_id: leadId,
      niche_id: nicheId,
      provider_id: 'p1',
      subscription_id: sub('p1', l2),
      level_id: l2.level_id,
      level_name: l2.name,
      order_position: 2,
      price_cents: 2_500,
      balance_after_cents: 7_500,
      assigned_at: at(3),
    }),
    event('ProvidersSelected', {
      lead_id: leadId,
      level_id: l1.level_id,
      order_position: 1,
      round: 0,
      candidates: [
        { provider_id: 'p2', subscription_id: sub('p2', l1), last_received_at: at(-90) },
        { provider_id: 'p4', subscription_id: sub('p4', l1), last_received_at: at(-30) },
      ],
      excluded: [{ provider_id: 'p1', subscription_id: sub('p1', l1), reason: 'already_assigned' }],
      picks: [{ provider_id: 'p2', subscription_id: sub('p2', l1), price_cents: 1_000 }],
    }),
    event('LeadAssigned', {
      assignment_id: `${leadId}-a2`,
      lead_id: leadId,
      niche_id: nicheId,
      provider_id: 'p2',
      subscription_id: sub('p2', l1),
      level_id: l1.level_id,
      level_name: l1.name,
      order_position: 1,
      price_cents: 1_000,
      balance_after_cents: 4_000,
      assigned_at: at(4),
    }),
    event('DistributionCompleted', {
      lead_id: leadId,
      niche_id: nicheId,
      request_id: requestId,
      outcome: 'partial',
      start_order_position: 2,
      traversal: [l2.level_id, l1.level_id],
      assignments: [
        { assignment_id: `${leadId}-a1`, provider_id: 'p1', subscription_id: sub('p1', l2), level_id: l2.level_id, price_cents: 2_500 },
        { assignment_id: `${leadId}-a2`, provider_id: 'p2', subscription_id: sub('p2', l1), level_id: l1.level_id, price_cents: 1_000 },
      ],
      skipped: [{ provider_id: 'p3', subscription_id: sub('p3', l2), level_id: l2.level_id, reason: 'insufficient_balance' }],
      duration_ms: 42,
      attempt: 1,
      completed_at: at(5),
    }),
  ];
  return { leadId, nicheId, levels: [l1, l2], events };
}
