/**
 * The notification service's Prometheus series, on a registry from @fairlead/platform.
 * Consumer lag and dead letters are read when scraped, so they cost nothing in between.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EmailKind } from './domain/emails';

export interface NotificationMetrics {
  sent(kind: EmailKind): void;
  /** An attempt failed and will be retried. */
  attemptFailed(kind: EmailKind): void;
  /** The email is given up on (last attempt, or a permanent SMTP refusal). */
  failed(kind: EmailKind): void;
  /** A redelivered event whose email was already sent. */
  duplicate(kind: EmailKind): void;
}

export interface ScrapeSources {
  /** Messages of each consumer not yet acknowledged (pending + in flight). */
  consumerLag(): Promise<Record<string, number>>;
  /** Dead letters sent by each consumer since start. */
  deadLettered(): Record<string, number>;
  outboxByStatus(): Promise<Record<string, number>>;
}

export function createNotificationMetrics(registry: Registry): NotificationMetrics & { observe(sources: ScrapeSources): void } {
  const registers = [registry];
  const sent = new Counter({ name: 'emails_sent_total', help: 'Emails accepted by the SMTP server.', labelNames: ['template'], registers });
  const failed = new Counter({ name: 'emails_failed_total', help: 'Emails given up on (marked failed in the outbox).', labelNames: ['template'], registers });
  const attemptFailed = new Counter({ name: 'email_attempts_failed_total', help: 'Send attempts that failed and will be retried.', labelNames: ['template'], registers });
  const duplicate = new Counter({ name: 'emails_duplicate_deliveries_total', help: 'Redelivered events whose email had been sent already (nothing sent).', labelNames: ['template'], registers });
  // Seeded at 0 so a dashboard sees every template from the start.
  for (const template of ['lead_assigned', 'low_balance']) {
    sent.inc({ template }, 0);
    failed.inc({ template }, 0);
  }

  let sources: ScrapeSources | undefined;
  new Gauge({
    name: 'consumer_lag_messages',
    help: 'Messages of the consumer not yet acknowledged (pending + in flight).',
    labelNames: ['consumer'],
    registers,
    async collect() {
      if (!sources) return;
      this.reset();
      for (const [consumer, lag] of Object.entries(await sources.consumerLag().catch(() => ({})))) this.set({ consumer }, lag);
    },
  });
  new Gauge({
    name: 'consumer_dead_lettered',
    help: 'Messages this process sent to the dead-letter stream since it started.',
    labelNames: ['consumer'],
    registers,
    collect() {
      if (!sources) return;
      for (const [consumer, n] of Object.entries(sources.deadLettered())) this.set({ consumer }, n);
    },
  });
  new Gauge({
    name: 'notification_outbox_emails',
    help: 'Emails in the outbox by status.',
    labelNames: ['status'],
    registers,
    async collect() {
      if (!sources) return;
      for (const [status, n] of Object.entries(await sources.outboxByStatus().catch(() => ({})))) this.set({ status }, n);
    },
  });

  return {
    sent: (kind) => sent.inc({ template: kind }),
    attemptFailed: (kind) => attemptFailed.inc({ template: kind }),
    failed: (kind) => failed.inc({ template: kind }),
    duplicate: (kind) => duplicate.inc({ template: kind }),
    observe: (s) => void (sources = s),
  };
}
