import type { HttpSurface } from '@fairlead/platform';

/** The billing process's HTTP API: health, readiness, metrics and docs only; its commands travel over NATS. */
export const billingHttp: HttpSurface = {
  title: 'Fairlead billing',
  description: 'Providers, wallets, charges and refunds (commands over NATS).',
};
