import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '@fairlead/event-store';
import { event, partialDistribution } from '../../testing/events';
import { auditEntryOf } from './audit-entries';

const stored = (e: { id: string; type: string; data: unknown; metadata?: Record<string, unknown> }, stream: string): StoredEvent => ({
  id: e.id,
  stream,
  type: e.type,
  data: e.data,
  metadata: e.metadata ?? {},
  streamVersion: 0,
  globalPosition: 1n,
  transactionId: 1n,
  createdAt: new Date(),
});

describe('audit entries of events', () => {
  it("maps a distribution to its audit actions (distribution.started, …, assignment.created)", () => {
    const s = partialDistribution('lead-1', 'roofing');
    expect(s.events.map((e) => auditEntryOf(stored(e, 'lead-lead-1'))?.action)).toEqual([
      'lead.approved',
      'distribution.requested',
      'distribution.started',
      undefined,
      'distribution.skipped_provider',
      undefined,
      'assignment.created',
      undefined,
      'assignment.created',
      'distribution.completed',
    ]);
  });

  it('names the actor of operator changes, from the event or else its metadata', () => {
    const topUp = event('WalletToppedUp', { provider_id: 'p1', amount_cents: 100, balance_after_cents: 100, reference: 'x', actor: { actor_id: 'olga', actor_role: 'operator' } });
    expect(auditEntryOf(stored(topUp, 'wallet-p1'))).toMatchObject({ action: 'wallet.topped_up', actor: { actor_id: 'olga' }, subject: 'provider:p1', provider_id: 'p1' });
    const started = event(
      'DistributionStarted',
      { lead_id: 'l', niche_id: 'n', request_id: 'r', attempt: 1, start_order_position: 1, traversal: [], started_at: new Date().toISOString() },
      { actor: { actor_id: 'bob', actor_role: 'admin' } },
    );
    expect(auditEntryOf(stored(started, 'lead-l'))?.actor).toEqual({ actor_id: 'bob', actor_role: 'admin' });
  });

  it('ignores events of other domains', () => {
    expect(auditEntryOf(stored({ id: 'x', type: 'TicketCreated', data: {} }, 'ticket-1'))).toBeUndefined();
  });
});
