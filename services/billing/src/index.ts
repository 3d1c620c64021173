/** Public entry of the billing service, for the process (main.ts) and for tests that run it in-process. */
export { startBillingService, type BillingService, type BillingServiceDeps, type BillingConfig } from './service';
export { billingConfigSchema, type BillingEnvConfig } from './config';
export type { ProviderCommands, ProviderReply } from './application/provider-commands';
export type { WalletCommands, ChargeReply } from './application/wallet-commands';
export { billingHttp } from './http/surface';
