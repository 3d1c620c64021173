/**
 * The rotation service's Prometheus series, counted from the events it appends: start
 * levels claimed per niche, where each niche's pointer stands (the start level of its
 * next lead), and configuration changes. fairness_rotation_position (the start of the
 * last distribution) lives in fairness, next to the distribution it started.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DistributionEventData } from '@fairlead/contracts';
import type { AppendObserver } from '@fairlead/event-store';

export interface RotationMetrics {
  /** Give to observeAppends on the store rotation writes through. */
  onAppended: AppendObserver;
}

const CHANGES = ['NicheCreated', 'NicheUpdated', 'CompetitionLevelAdded', 'CompetitionLevelUpdated'] as const;

export function createRotationMetrics(registry: Registry): RotationMetrics {
  const registers = [registry];
  const claims = new Counter({ name: 'rotation_start_level_claims_total', help: 'Start levels claimed for leads, by niche.', labelNames: ['niche_id'], registers });
  const next = new Gauge({ name: 'rotation_next_start_position', help: "Order position the niche's next lead starts at.", labelNames: ['niche_id'], registers });
  const changes = new Counter({ name: 'rotation_niche_changes_total', help: 'Niche and level configuration changes, by event type.', labelNames: ['type'], registers });
  for (const type of CHANGES) changes.inc({ type }, 0);
  return {
    onAppended: (_stream, events) => {
      for (const event of events) {
        if (event.type === 'StartLevelClaimed') {
          // Built by rotation's decider a moment ago: read, not re-validated.
          const data = event.data as DistributionEventData<'StartLevelClaimed'>;
          claims.inc({ niche_id: data.niche_id });
          next.set({ niche_id: data.niche_id }, data.next_start_order_position);
        } else if ((CHANGES as readonly string[]).includes(event.type)) {
          changes.inc({ type: event.type });
        }
      }
    },
  };
}
