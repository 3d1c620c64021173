import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '@fairlead/platform';
import { createFairnessMetrics } from './metrics';

const selected = (leadId: string, round: number, picks: string[]) => ({
  id: `${leadId}-${round}`,
  type: 'ProvidersSelected',
  data: {
    lead_id: leadId,
    level_id: 'l1',
    order_position: 1,
    round,
    candidates: [
      { provider_id: 'new', subscription_id: 's-new', last_received_at: null },
      { provider_id: 'old', subscription_id: 's-old', last_received_at: '2026-01-01T00:00:00.000Z' },
    ],
    excluded: [],
    picks: picks.map((p) => ({ provider_id: p, subscription_id: `s-${p}`, price_cents: 100 })),
  },
});

describe('fairness metrics', () => {
  it('counts a newcomer picked ahead of a served provider once per lead, even when the pick is withdrawn and made again', async () => {
    const registry = createMetricsRegistry('fairness');
    const metrics = createFairnessMetrics(registry);
    const value = async () => (await registry.getSingleMetric('fairness_new_provider_priority_total')!.get()).values[0]!.value;
    const appended = { nextExpectedVersion: 0, lastGlobalPosition: 1n, appended: 1 };
    metrics.onAppended('lead-a', [selected('a', 0, ['new'])], appended);
    expect(await value()).toBe(1);
    // Round 1 after a PicksWithdrawn: the same pick again is not a second newcomer.
    metrics.onAppended('lead-a', [selected('a', 1, ['new'])], appended);
    expect(await value()).toBe(1);
    // Another lead counts; a served provider's pick does not.
    metrics.onAppended('lead-b', [selected('b', 0, ['new']), selected('c', 0, ['old'])], appended);
    expect(await value()).toBe(2);
  });
});
