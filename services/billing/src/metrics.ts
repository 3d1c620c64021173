/**
 * The billing service's Prometheus series, counted from the events it appends (a charge
 * repeated by fairness is answered from the record and appends nothing, so it is not
 * counted twice): charges and declines, money charged, topped up and refunded, and the
 * subscription status changes of the low-balance rule.
 */
import { Counter, type Registry } from 'prom-client';
import type { AppendObserver } from '@fairlead/event-store';

export interface BillingMetrics {
  /** Give to observeAppends on the store billing writes through. */
  onAppended: AppendObserver;
}

const cents = (data: unknown): number => {
  const amount = (data as { amount_cents?: unknown } | null)?.amount_cents;
  return typeof amount === 'number' ? amount : 0;
};

export function createBillingMetrics(registry: Registry): BillingMetrics {
  const registers = [registry];
  const charges = new Counter({ name: 'billing_charges_total', help: 'Charge decisions for assignments, by result (charged, declined).', labelNames: ['result'], registers });
  const charged = new Counter({ name: 'billing_charged_usd_total', help: 'Money charged for assignments, in US dollars.', registers });
  const topUps = new Counter({ name: 'billing_top_ups_total', help: 'Wallet top-ups.', registers });
  const toppedUp = new Counter({ name: 'billing_topped_up_usd_total', help: 'Money added to wallets, in US dollars.', registers });
  const refunds = new Counter({ name: 'billing_refunds_total', help: 'Refunds of charged leads.', registers });
  const refunded = new Counter({ name: 'billing_refunded_usd_total', help: 'Money refunded, in US dollars.', registers });
  const statusChanges = new Counter({
    name: 'billing_subscription_status_changes_total',
    help: 'Subscription status changes made by billing (the low-balance rule), by new status.',
    labelNames: ['to'],
    registers,
  });
  const providers = new Counter({ name: 'billing_providers_registered_total', help: 'Providers registered.', registers });
  for (const result of ['charged', 'declined']) charges.inc({ result }, 0);
  for (const to of ['paused_low_balance', 'active']) statusChanges.inc({ to }, 0);

  return {
    onAppended: (_stream, events) => {
      for (const event of events) {
        switch (event.type) {
          case 'WalletCharged':
            charges.inc({ result: 'charged' });
            charged.inc(cents(event.data) / 100);
            break;
          case 'WalletChargeDeclined':
            charges.inc({ result: 'declined' });
            break;
          case 'WalletToppedUp':
            topUps.inc();
            toppedUp.inc(cents(event.data) / 100);
            break;
          case 'WalletRefunded':
            refunds.inc();
            refunded.inc(cents(event.data) / 100);
            break;
          case 'SubscriptionStatusChanged': {
            const to = (event.data as { to?: unknown } | null)?.to;
            if (typeof to === 'string') statusChanges.inc({ to });
            break;
          }
          case 'ProviderRegistered':
            providers.inc();
            break;
        }
      }
    },
  };
}
