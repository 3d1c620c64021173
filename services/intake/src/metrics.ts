/**
 * The intake service's Prometheus series, counted from the events it appends (so a
 * redelivered lead.approved that changes nothing counts nothing): leads approved and
 * rejected, by channel, and distribution requests. Consumer lag and dead letters come
 * from the platform's consumer metrics.
 */
import { Counter, type Registry } from 'prom-client';
import type { AppendObserver } from '@fairlead/event-store';

export interface IntakeMetrics {
  /** Give to observeAppends on the store intake writes through. */
  onAppended: AppendObserver;
}

const CHANNELS = ['nats', 'http'] as const;

const channelOf = (data: unknown): string => {
  const via = (data as { received_via?: unknown } | null)?.received_via;
  return typeof via === 'string' && (CHANNELS as readonly string[]).includes(via) ? via : 'unknown';
};

export function createIntakeMetrics(registry: Registry): IntakeMetrics {
  const registers = [registry];
  const approved = new Counter({ name: 'intake_leads_approved_total', help: 'Leads recorded as approved (LeadApproved), by channel.', labelNames: ['via'], registers });
  const rejected = new Counter({ name: 'intake_leads_rejected_total', help: 'Payloads rejected with reasons (LeadRejected), by channel.', labelNames: ['via'], registers });
  const requested = new Counter({ name: 'intake_distribution_requests_total', help: 'Distribution requests recorded (automatic after approval, or by an operator).', registers });
  for (const via of CHANNELS) {
    approved.inc({ via }, 0);
    rejected.inc({ via }, 0);
  }
  requested.inc(0);
  return {
    onAppended: (_stream, events) => {
      for (const event of events) {
        if (event.type === 'LeadApproved') approved.inc({ via: channelOf(event.data) });
        else if (event.type === 'LeadRejected') rejected.inc({ via: channelOf(event.data) });
        else if (event.type === 'DistributionRequested') requested.inc();
      }
    },
  };
}
