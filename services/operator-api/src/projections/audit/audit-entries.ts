/**
 * Which stored events are audit entries, and what each says: the distribution's
 * actions (`distribution.started`, `.completed`, `.failed`,
 * `.skipped_provider`, `assignment.created`) and every operator change, with the actor
 * the event names. Pure: no I/O.
 */
import { Actor, isDistributionEventType, SYSTEM_ACTOR } from '@fairlead/contracts';
import type { StoredEvent } from '@fairlead/event-store';
import { eventData } from '../event-data';

export interface AuditEntry {
  action: string;
  actor: Actor;
  /** The thing acted on, `<kind>:<id>` (lead:…, niche:…, provider:…, subscription:…, dlq:…). */
  subject: string;
  lead_id: string | null;
  niche_id: string | null;
  provider_id: string | null;
  details: Record<string, unknown>;
}

export const AUDIT_ACTIONS = [
  'lead.approved',
  'lead.rejected',
  'distribution.requested',
  'distribution.started',
  'distribution.completed',
  'distribution.failed',
  'distribution.skipped_provider',
  'assignment.created',
  'niche.created',
  'niche.updated',
  'level.created',
  'level.updated',
  'provider.created',
  'provider.updated',
  'wallet.topped_up',
  'wallet.refunded',
  'subscription.created',
  'subscription.updated',
  'subscription.status_changed',
  'dlq.redriven',
  'dlq.discarded',
  'projection.retry_requested',
  'projection.event_parked',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The actor an event's metadata names (commands record it there too), else the system. */
function metadataActor(event: StoredEvent): Actor {
  // Most events name none: no failed parse (and its error object) for those.
  if (event.metadata.actor === undefined) return SYSTEM_ACTOR;
  const parsed = Actor.safeParse(event.metadata.actor);
  return parsed.success ? parsed.data : SYSTEM_ACTOR;
}

const entry = (action: AuditAction, actor: Actor, subject: string, ids: { lead?: string | null; niche?: string | null; provider?: string | null }, details: Record<string, unknown>): AuditEntry => ({
  action,
  actor,
  subject,
  lead_id: ids.lead ?? null,
  niche_id: ids.niche ?? null,
  provider_id: ids.provider ?? null,
  details,
});

export function auditEntryOf(event: StoredEvent): AuditEntry | undefined {
  if (!isDistributionEventType(event.type)) return undefined;
  const sys = metadataActor(event);
  switch (event.type) {
    case 'LeadApproved': {
      const { lead, received_via } = eventData('LeadApproved', event);
      return entry('lead.approved', sys, `lead:${lead.lead_id}`, { lead: lead.lead_id, niche: lead.niche_id }, { received_via, approved_at: lead.approved_at });
    }
    case 'LeadRejected': {
      const d = eventData('LeadRejected', event);
      return entry('lead.rejected', sys, d.lead_id ? `lead:${d.lead_id}` : `stream:${event.stream}`, { lead: d.lead_id, niche: d.niche_id }, { reasons: d.reasons, received_via: d.received_via });
    }
    case 'DistributionRequested': {
      const d = eventData('DistributionRequested', event);
      return entry('distribution.requested', d.requested_by, `lead:${d.lead_id}`, { lead: d.lead_id, niche: d.niche_id }, { request_id: d.request_id });
    }
    case 'DistributionStarted': {
      const d = eventData('DistributionStarted', event);
      return entry('distribution.started', sys, `lead:${d.lead_id}`, { lead: d.lead_id, niche: d.niche_id }, {
        request_id: d.request_id,
        attempt: d.attempt,
        start_order_position: d.start_order_position,
        traversal: d.traversal.map((l) => l.order_position),
      });
    }
    case 'DistributionCompleted': {
      const d = eventData('DistributionCompleted', event);
      return entry('distribution.completed', sys, `lead:${d.lead_id}`, { lead: d.lead_id, niche: d.niche_id }, {
        request_id: d.request_id,
        outcome: d.outcome,
        assignments: d.assignments.length,
        skipped: d.skipped.length,
        duration_ms: d.duration_ms,
        attempt: d.attempt,
      });
    }
    case 'DistributionFailed': {
      const d = eventData('DistributionFailed', event);
      return entry('distribution.failed', sys, `lead:${d.lead_id}`, { lead: d.lead_id, niche: d.niche_id }, { request_id: d.request_id, attempt: d.attempt, final: d.final, error: d.error });
    }
    case 'ProviderSkipped': {
      const d = eventData('ProviderSkipped', event);
      return entry('distribution.skipped_provider', sys, `lead:${d.lead_id}`, { lead: d.lead_id, provider: d.provider_id }, {
        subscription_id: d.subscription_id,
        level_id: d.level_id,
        reason: d.reason,
        detail: d.detail,
      });
    }
    case 'LeadAssigned': {
      const d = eventData('LeadAssigned', event);
      return entry('assignment.created', sys, `lead:${d.lead_id}`, { lead: d.lead_id, niche: d.niche_id, provider: d.provider_id }, {
        assignment_id: d.assignment_id,
        subscription_id: d.subscription_id,
        level_id: d.level_id,
        level_name: d.level_name,
        price_cents: d.price_cents,
      });
    }
    case 'NicheCreated': {
      const d = eventData('NicheCreated', event);
      return entry('niche.created', d.actor, `niche:${d.niche_id}`, { niche: d.niche_id }, { name: d.name, auto_distribute: d.auto_distribute });
    }
    case 'NicheUpdated': {
      const { actor, niche_id, ...changes } = eventData('NicheUpdated', event);
      return entry('niche.updated', actor, `niche:${niche_id}`, { niche: niche_id }, changes);
    }
    case 'CompetitionLevelAdded': {
      const { actor, niche_id, ...level } = eventData('CompetitionLevelAdded', event);
      return entry('level.created', actor, `niche:${niche_id}`, { niche: niche_id }, level);
    }
    case 'CompetitionLevelUpdated': {
      const { actor, niche_id, ...changes } = eventData('CompetitionLevelUpdated', event);
      return entry('level.updated', actor, `niche:${niche_id}`, { niche: niche_id }, changes);
    }
    case 'ProviderRegistered': {
      const { actor, provider_id, ...rest } = eventData('ProviderRegistered', event);
      return entry('provider.created', actor, `provider:${provider_id}`, { provider: provider_id }, rest);
    }
    case 'ProviderUpdated': {
      const { actor, provider_id, ...changes } = eventData('ProviderUpdated', event);
      return entry('provider.updated', actor, `provider:${provider_id}`, { provider: provider_id }, changes);
    }
    case 'WalletToppedUp': {
      const { actor, provider_id, ...rest } = eventData('WalletToppedUp', event);
      return entry('wallet.topped_up', actor, `provider:${provider_id}`, { provider: provider_id }, rest);
    }
    case 'WalletRefunded': {
      const { actor, provider_id, lead_id, ...rest } = eventData('WalletRefunded', event);
      return entry('wallet.refunded', actor, `provider:${provider_id}`, { provider: provider_id, lead: lead_id }, rest);
    }
    case 'SubscriptionCreated': {
      const { actor, subscription_id, provider_id, niche_id, ...rest } = eventData('SubscriptionCreated', event);
      return entry('subscription.created', actor, `subscription:${subscription_id}`, { provider: provider_id, niche: niche_id }, rest);
    }
    case 'SubscriptionChanged': {
      const { actor, subscription_id, ...changes } = eventData('SubscriptionChanged', event);
      return entry('subscription.updated', actor, `subscription:${subscription_id}`, {}, changes);
    }
    case 'SubscriptionStatusChanged': {
      const { actor, subscription_id, provider_id, ...rest } = eventData('SubscriptionStatusChanged', event);
      return entry('subscription.status_changed', actor, `subscription:${subscription_id}`, { provider: provider_id }, rest);
    }
    case 'DeadLetterRedriven':
    case 'DeadLetterDiscarded': {
      const d = event.type === 'DeadLetterRedriven' ? eventData('DeadLetterRedriven', event) : eventData('DeadLetterDiscarded', event);
      const { actor, seq, lead_id, at: _at, ...details } = d;
      return entry(event.type === 'DeadLetterRedriven' ? 'dlq.redriven' : 'dlq.discarded', actor, `dlq:${seq}`, { lead: lead_id }, details);
    }
    case 'ProjectionRetryRequested': {
      const { actor, projection, at: _at, ...details } = eventData('ProjectionRetryRequested', event);
      return entry('projection.retry_requested', actor, `projection:${projection}`, {}, details);
    }
    case 'ProjectionEventParked': {
      const { actor, projection, at: _at, ...details } = eventData('ProjectionEventParked', event);
      return entry('projection.event_parked', actor, `projection:${projection}`, {}, details);
    }
    default:
      // Rotation claims, charges and selections are recorded by the entries above (started, assignment, skipped).
      return undefined;
  }
}
