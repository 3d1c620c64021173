/**
 * The billing process: `tsx services/billing/src/main.ts`. Reads its environment,
 * connects to PostgreSQL and NATS, runs migrations, serves the billing commands and the
 * health endpoints, and shuts down gracefully on SIGTERM/SIGINT. A kill -9 loses
 * nothing: every decision commits with its event, and a repeated charge is answered
 * from the record.
 */
import { loadConfig } from '@fairlead/platform';
import { openServiceRuntime, serveService } from '@fairlead/platform/runtime';
import { billingConfigSchema } from './config';
import { startBillingService } from './service';

const config = loadConfig(billingConfigSchema);
const runtime = await openServiceRuntime(config);
const { pool, store, nc, subjects, logger, registry } = runtime;

const service = await startBillingService({ pool, store, nc, subjects, logger, registry });

await serveService(config, runtime, {
  service,
  readers: service.readers,
  title: 'Fairlead billing',
  description: 'Providers, wallets, charges and refunds (commands over NATS).',
});
