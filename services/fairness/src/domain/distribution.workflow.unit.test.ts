/** The distribution workflow, given/when/then: what each answer records in the lead's stream. */
import { describe, expect, it } from 'vitest';
import type { LevelSnapshot } from '@fairlead/contracts';
import { DeciderSpecification } from '@fairlead/event-sourcing/testing';
import type { Pick } from './distribution-state';
import { distributionWorkflow, type DistributionOutput } from './distribution.workflow';
import { eventIds } from './ids';

const NOW = new Date('2026-03-15T12:00:00Z');
const level = (n: number): LevelSnapshot => ({ level_id: `l${n}`, name: `Level ${n}`, order_position: n, max_recipients: 1, price_per_lead_cents: 1000 });
const given = DeciderSpecification.for(distributionWorkflow);

// Given events as the workflow's outputs are: with an id.
const approved: DistributionOutput = {
  id: 'approved',
  type: 'LeadApproved',
  data: {
    received_via: 'nats',
    lead: {
      schema_version: 1,
      lead_id: 'lead-1',
      niche_id: 'n1',
      approved_at: NOW.toISOString(),
      consumer: { name: 'Ann', email: 'ann@example.com' },
      location: { postal_code: '94110', state: 'CA' },
      details: {},
    },
  },
};
const claimed = { type: 'start_level_claimed' as const, claim: { startOrderPosition: 1, traversal: [level(1)] }, requestId: 'r1', attempt: 1, now: NOW };
const pick: Pick = { providerId: 'p1', subscriptionId: 's1', levelId: 'l1', priceCents: 1000, status: 'pending' };

describe('distribution workflow', () => {
  it('a claimed start level starts the distribution, under its deterministic id', () => {
    const [started] = given([approved]).when(claimed).events();
    expect(started).toMatchObject({ id: eventIds.started('lead-1'), type: 'DistributionStarted', data: { start_order_position: 1 } });
  });

  it('no active level (no claim) completes the distribution with nobody assigned', () => {
    const [completed] = given([approved]).when({ ...claimed, claim: null }).events();
    expect(completed).toMatchObject({ id: eventIds.completed('lead-1'), type: 'DistributionCompleted', data: { assignments: [], start_order_position: null } });
  });

  it("billing's answer to a pick: charged is an assignment at the pick's served time, refused is a skip", () => {
    const [started] = given([approved]).when(claimed).events();
    const servedAt = new Date('2026-03-15T12:00:01Z');
    const [assigned] = given([approved, started!]).when({ type: 'charge_answered', pick, result: { charged: true, balance_after_cents: 5 }, servedAt }).events();
    expect(assigned).toMatchObject({ id: eventIds.assigned('lead-1', 'p1'), type: 'LeadAssigned', data: { assigned_at: servedAt.toISOString(), balance_after_cents: 5 } });
    const [skipped] = given([approved, started!]).when({ type: 'charge_answered', pick, result: { charged: false, reason: 'insufficient_balance', balance_cents: 3 }, servedAt }).events();
    expect(skipped).toMatchObject({ id: eventIds.skipped('lead-1', 'p1', 'l1'), type: 'ProviderSkipped', data: { reason: 'insufficient_balance' } });
  });

  it('picks not attempted are taken back under an id of the version they take', () => {
    const [started] = given([approved]).when(claimed).events();
    const [withdrawn] = given([approved, started!]).when({ type: 'earlier_charge_declined', picks: [pick] }).events();
    expect(withdrawn).toEqual({
      id: eventIds.withdrawn('lead-1', 2),
      type: 'PicksWithdrawn',
      data: { lead_id: 'lead-1', picks: [{ provider_id: 'p1', subscription_id: 's1', level_id: 'l1' }], reason: 'earlier_charge_declined' },
    });
  });

  it('refuses to decide for a stream without an approved lead', () => {
    given([]).when(claimed).thenThrows(Error, (e) => /no approved lead/.test(e.message));
  });
});
