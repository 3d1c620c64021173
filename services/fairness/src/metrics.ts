/**
 * The fairness service's Prometheus series (names as docs/telemetry.md lists them). They are
 * counted from the events this process appends (observeAppends on the store the
 * distribution writes through), so the decision code stays free of metrics and an
 * idempotent re-append counts nothing twice.
 *
 * - distribution_total{status}: outcomes (success, partial, no_eligible from
 *   DistributionCompleted; failed from a final DistributionFailed).
 * - distribution_attempts_failed_total: attempts that failed and will be retried.
 * - distribution_assignments_total{level_id,niche_id}, distribution_skipped_total{reason},
 *   distribution_duration_ms (histogram): from each DistributionCompleted.
 * - assignment_total{level_id,niche_id}: the same count as distribution_assignments_total
 *   under the original plan's "assignment metrics" name, so dashboards written against the
 *   plan find it.
 * - assignment_price_usd{level_id}: a histogram of the prices charged per assignment.
 * - fairness_new_provider_priority_total: picks of a never-served provider while a
 *   provider served before was also eligible at that level (least-recently-served order
 *   puts the newcomer first).
 * - fairness_rotation_position{niche_id}: the start level (order position) of the niche's
 *   last claim, from DistributionStarted. It lives here rather than in rotation because
 *   fairness is where a claim becomes a distribution.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DistributionOutcome, SkipReason, type DistributionEventData, type DistributionEventType } from '@fairlead/contracts';
import type { AppendObserver, NewEvent } from '@fairlead/event-store';

export interface FairnessMetrics {
  /** Give to observeAppends on the store the distribution writes through. */
  onAppended: AppendObserver;
}

const DURATION_BUCKETS_MS = [10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000];
const PRICE_BUCKETS_USD = [1, 2.5, 5, 10, 25, 50, 100, 250, 500];

/** Picks remembered for the newcomer count (far more than one batch's). */
const COUNTED_MAX = 10_000;

export function createFairnessMetrics(registry: Registry): FairnessMetrics {
  const registers = [registry];
  const outcomes = new Counter({ name: 'distribution_total', help: 'Distributions finished, by outcome.', labelNames: ['status'], registers });
  const failedAttempts = new Counter({ name: 'distribution_attempts_failed_total', help: 'Distribution attempts that failed and will be retried.', registers });
  const assignments = new Counter({ name: 'distribution_assignments_total', help: 'Leads assigned to providers, by level and niche.', labelNames: ['level_id', 'niche_id'], registers });
  const assignmentTotal = new Counter({
    name: 'assignment_total',
    help: 'Assignments made, by level and niche (the original plan’s name; the same count as distribution_assignments_total).',
    labelNames: ['level_id', 'niche_id'],
    registers,
  });
  const skipped = new Counter({ name: 'distribution_skipped_total', help: 'Providers picked or eligible but not assigned, by reason.', labelNames: ['reason'], registers });
  const duration = new Histogram({ name: 'distribution_duration_ms', help: 'Time from the start of a distribution to its outcome, in milliseconds.', buckets: DURATION_BUCKETS_MS, registers });
  const price = new Histogram({ name: 'assignment_price_usd', help: 'Price charged per assignment, in US dollars, by level.', labelNames: ['level_id'], buckets: PRICE_BUCKETS_USD, registers });
  const newcomers = new Counter({
    name: 'fairness_new_provider_priority_total',
    help: 'Picks of a never-served provider while a provider served before was eligible at the same level.',
    registers,
  });
  const rotation = new Gauge({ name: 'fairness_rotation_position', help: "Start level (order position) of the niche's last claimed distribution.", labelNames: ['niche_id'], registers });
  // Seeded so a dashboard sees every outcome and reason from the start.
  for (const status of DistributionOutcome.options) outcomes.inc({ status }, 0);
  for (const reason of SkipReason.options) skipped.inc({ reason }, 0);
  newcomers.inc(0);

  const completed = (data: DistributionEventData<'DistributionCompleted'>) => {
    outcomes.inc({ status: data.outcome });
    duration.observe(data.duration_ms);
    for (const a of data.assignments) {
      assignments.inc({ level_id: a.level_id, niche_id: data.niche_id });
      assignmentTotal.inc({ level_id: a.level_id, niche_id: data.niche_id });
      price.observe({ level_id: a.level_id }, a.price_cents / 100);
    }
    for (const s of data.skipped) skipped.inc({ reason: s.reason });
  };

  // A pick taken back (PicksWithdrawn) and made again in a later round counts once: the
  // (lead, subscription) pairs counted lately are remembered (a bounded, oldest-first set).
  const counted = new Set<string>();
  const selected = (data: DistributionEventData<'ProvidersSelected'>) => {
    const neverServed = new Set(data.candidates.filter((c) => c.last_received_at === null).map((c) => c.subscription_id));
    if (neverServed.size === 0 || neverServed.size === data.candidates.length) return;
    let n = 0;
    for (const p of data.picks) {
      const key = `${data.lead_id}\u0000${p.subscription_id}`;
      if (!neverServed.has(p.subscription_id) || counted.has(key)) continue;
      counted.add(key);
      if (counted.size > COUNTED_MAX) counted.delete(counted.values().next().value!);
      n++;
    }
    if (n > 0) newcomers.inc(n);
  };

  // The decider built these events from its contracts a moment ago: read them, don't re-validate (hot path).
  const dataOf = <T extends DistributionEventType>(event: NewEvent, _type: T) => event.data as DistributionEventData<T>;
  const observe = (event: NewEvent) => {
    switch (event.type) {
      case 'DistributionCompleted':
        return completed(dataOf(event, 'DistributionCompleted'));
      case 'ProvidersSelected':
        return selected(dataOf(event, 'ProvidersSelected'));
      case 'DistributionStarted': {
        const data = dataOf(event, 'DistributionStarted');
        return rotation.set({ niche_id: data.niche_id }, data.start_order_position);
      }
      case 'DistributionFailed': {
        const data = dataOf(event, 'DistributionFailed');
        return data.final ? outcomes.inc({ status: 'failed' }) : failedAttempts.inc();
      }
    }
  };

  return {
    onAppended: (_stream, events) => {
      for (const event of events) {
        try {
          observe(event);
        } catch {
          // An event of an unexpected shape is not counted; the write itself stands.
        }
      }
    },
  };
}
