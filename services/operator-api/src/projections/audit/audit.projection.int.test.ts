import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams } from '@fairlead/contracts';
import { event, partialDistribution } from '../../testing/events';
import { startProjectionHarness, type ProjectionHarness } from '../../testing/projection-harness';
import { auditProjection } from './audit.projection';
import { listAudit } from './audit.queries';

let h: ProjectionHarness;
const alice = { actor_id: 'alice', actor_role: 'admin' } as const;

beforeAll(async () => {
  h = await startProjectionHarness('op_audit');
  const s = partialDistribution('lead-1', 'roofing');
  await h.append(streams.lead('lead-1'), s.events);
  await h.append(streams.niche('roofing'), [event('NicheCreated', { niche_id: 'roofing', name: 'Roofing', auto_distribute: true, actor: alice })]);
  await h.append(streams.wallet('p1'), [event('WalletToppedUp', { provider_id: 'p1', amount_cents: 500, balance_after_cents: 500, reference: 'card', actor: { actor_id: 'olga', actor_role: 'operator' } })]);
  await h.append(streams.deadLetter(7), [
    event('DeadLetterDiscarded', { seq: 7, original_subject: 'x.lead.approved', event_type: null, lead_id: null, reason: 'malformed', error: 'not JSON', actor: alice, at: '2026-01-05T10:09:00.000Z' }),
  ]);
  await h.project(auditProjection);
});
afterAll(async () => {
  await h.close();
});

describe('operator.audit_log', () => {
  it("records the distribution actions for a lead, in order", async () => {
    const { items } = await listAudit(h.pool, { lead_id: 'lead-1', limit: 50 });
    expect(items.map((e) => e.action).reverse()).toEqual([
      'lead.approved',
      'distribution.requested',
      'distribution.started',
      'distribution.skipped_provider',
      'assignment.created',
      'assignment.created',
      'distribution.completed',
    ]);
    const skipped = items.find((e) => e.action === 'distribution.skipped_provider');
    expect(skipped).toMatchObject({ provider_id: 'p3', actor_id: 'system', details: { reason: 'insufficient_balance' } });
  });

  it('records who did each operator action, dead-letter actions included', async () => {
    expect((await listAudit(h.pool, { actor_id: 'alice', limit: 10 })).items.map((e) => [e.action, e.source, e.subject])).toEqual([
      ['dlq.discarded', 'event', 'dlq:7'],
      ['niche.created', 'event', 'niche:roofing'],
    ]);
    expect((await listAudit(h.pool, { action: 'dlq.discarded', limit: 10 })).items[0]!.details).toMatchObject({ reason: 'malformed', error: 'not JSON' });
    expect((await listAudit(h.pool, { action: 'wallet.topped_up', limit: 10 })).items[0]).toMatchObject({ actor_id: 'olga', actor_role: 'operator', subject: 'provider:p1' });
  });

  it('filters by action prefix and pages with a cursor', async () => {
    const all = (await listAudit(h.pool, { action: 'distribution.*', limit: 50 })).items.map((e) => e.id);
    expect(all).toHaveLength(4);
    const first = await listAudit(h.pool, { action: 'distribution.', limit: 3 });
    const second = await listAudit(h.pool, { action: 'distribution.', limit: 3, cursor: first.next_cursor! });
    expect([...first.items, ...second.items].map((e) => e.id)).toEqual(all);
    expect(second.next_cursor).toBeNull();
  });

  it('changes nothing when the whole log is replayed', async () => {
    const before = await h.dump(['operator.audit_log']);
    await h.replay(auditProjection);
    expect(await h.dump(['operator.audit_log'])).toBe(before);
  });
});
