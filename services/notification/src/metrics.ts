/**
 * The notification service's Prometheus series, on a registry from @fairlead/platform.
 * The outbox is counted when scraped, so it costs nothing in between; consumer lag and
 * dead letters come from the platform's consumer metrics (registerConsumerMetrics).
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
